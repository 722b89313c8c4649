package engine

import (
	"context"

	"github.com/minibox/minibox/pkg/api"
)

type containersArea struct{}

func (e *Engine) loadContainers() error                    { return nil }
func (e *Engine) openContainers(ctx context.Context) error { return nil }

func (e *Engine) countContainers(info *api.Info) {}

func (e *Engine) closeContainers() {}
