package imagesvc

import (
	"encoding/json"
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/health"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
)

// HistoryItem is one step of an image's history; ImageHistory lists them newest first.
type HistoryItem struct {
	ID        string // the image's ID on the newest step, "<missing>" below it (Docker's)
	Created   time.Time
	CreatedBy string
	Comment   string
	Size      int64 // the step's layer (compressed, as stored); 0 for a step without one
	Tags      []string
}

// ImageHistory lists the steps that built an image.
func (s *Service) ImageHistory(ref string) ([]HistoryItem, error) {
	img, err := s.store.Resolve(ref)
	if err != nil {
		return nil, err
	}
	var out []HistoryItem
	layer := 0
	hist := img.Config.History
	if len(hist) == 0 { // an imported image: one step per layer
		for range img.Layers {
			out = append(out, HistoryItem{CreatedBy: "", Comment: "imported"})
		}
		for i := range out {
			out[i].Size = img.Layers[i].Size
			if img.Config.Created != nil {
				out[i].Created = *img.Config.Created
			}
		}
	} else {
		for _, h := range hist {
			it := HistoryItem{CreatedBy: h.CreatedBy, Comment: h.Comment}
			if h.Created != nil {
				it.Created = *h.Created
			}
			if !h.EmptyLayer && layer < len(img.Layers) {
				it.Size = img.Layers[layer].Size
				layer++
			}
			out = append(out, it)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	for i := range out {
		out[i].ID = "<missing>"
	}
	if len(out) > 0 {
		out[0].ID = img.ID.String()
		if img.Name != "" {
			out[0].Tags = []string{oci.Familiar(img.Name)}
		}
	}
	return out, nil
}

// ImageHealthcheck reads Docker's Healthcheck extension from the image's config blob.
func (s *Service) ImageHealthcheck(img *image.Image) *ctrconfig.Healthcheck {
	b, err := s.store.Content().ReadAll(img.ID)
	if err != nil {
		return nil
	}
	return health.FromImageConfig(b)
}

// dockerExtras reads Docker's OnBuild and Shell extensions from the image's config blob
// (the OCI config struct has neither).
func (s *Service) dockerExtras(img *image.Image) (onBuild, shell []string) {
	b, err := s.store.Content().ReadAll(img.ID)
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
