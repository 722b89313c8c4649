package engine

import (
	"encoding/json"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/image"
)

// imageHealthcheck reads Docker's Healthcheck extension from the image's config blob.
func (e *Engine) imageHealthcheck(img *image.Image) *ctrconfig.Healthcheck {
	b, err := e.Images.Content().ReadAll(img.ID)
	if err != nil {
		return nil
	}
	return health.FromImageConfig(b)
}

// imageDockerExtras reads Docker's OnBuild and Shell extensions from the image's config
// blob (the OCI config struct has neither).
func (e *Engine) imageDockerExtras(img *image.Image) (onBuild, shell []string) {
	b, err := e.Images.Content().ReadAll(img.ID)
	if err != nil {
		return nil, nil
	}
	var cfg struct {
		Config struct {
			OnBuild []string
			Shell   []string
		} `json:"config"`
	}
	if json.Unmarshal(b, &cfg) != nil {
		return nil, nil
	}
	return cfg.Config.OnBuild, cfg.Config.Shell
}
