package config_test

import (
	"log/slog"
	"testing"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

func testEnv(t *testing.T) sensor.Env {
	return sensor.Env{Name: "t", SensorName: "t", DataDir: t.TempDir(), Emitter: sensortest.NewRecorder(),
		Logger: slog.New(slog.DiscardHandler), Services: map[string]any{}, Seed: []byte("seed")}
}
