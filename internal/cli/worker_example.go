package cli

import (
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/worker"
)

func init() { config.RegisterExample("analysis", worker.Example) }
