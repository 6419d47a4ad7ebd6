package capture

import "time"

func deadline(sec int) time.Time { return time.Now().Add(time.Duration(sec) * time.Second) }
