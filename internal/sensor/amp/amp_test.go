package amp

import (
	"testing"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

func TestConformance(t *testing.T) {
	sensortest.Run(t, sensortest.Options{Factory: "amp", Config: "protocol: ntp\nreply_budget: 5\n",
		Env: func(env *sensor.Env) {
			h := DefaultShared()
			h.ReplyBudget = 5
			env.Services[ServiceHub] = NewHub(h)
		}})
}
