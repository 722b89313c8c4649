package loader

import (
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// The original minibox's compose dialect: files named minibox-compose.y(a)ml, and service
// keys the Compose Specification lacks. db_mode and data are accepted in any file (no
// Compose key has those names); the meanings that differ from Compose's (an integer
// shm_size in MiB, an undeclared bare volume name as a directory beside the file) hold
// in minibox-compose files only, so a Compose file keeps Compose's meaning.
const (
	extDBMode = "x-minibox-db-mode"
	extData   = "x-minibox-data"
	// DefaultDBData is where db_mode puts the data volume when data is not set (db run's
	// --data default).
	DefaultDBData = "/var/lib/minibox-data"
)

var originalFiles = []string{"minibox-compose.yaml", "minibox-compose.yml"}

func isOriginalFile(file string) bool {
	for _, n := range originalFiles {
		if filepath.Base(file) == n {
			return true
		}
	}
	return false
}

// original rewrites one interpolated file's original keys before it is checked and
// merged: db_mode and data become x-minibox-* extensions, and in a minibox-compose file
// an integer shm_size is MiB and `name:/path` with name declared nowhere in the file is
// the directory ./name (with a warning).
func (l *loader) original(cfg map[string]any, file string) error {
	services, _ := cfg["services"].(map[string]any)
	orig := isOriginalFile(file)
	declared, _ := cfg["volumes"].(map[string]any)
	for _, name := range sortedKeys(services) {
		s, ok := services[name].(map[string]any)
		if !ok {
			continue
		}
		at := fmt.Sprintf("%s: services.%s", file, name)
		if v, ok := s["db_mode"]; ok {
			b, err := strconv.ParseBool(fmt.Sprint(v))
			if err != nil {
				return fmt.Errorf("%s.db_mode: %v: expected true or false", at, v)
			}
			delete(s, "db_mode")
			s[extDBMode] = b
		}
		if v, ok := s["data"]; ok {
			p, ok := v.(string)
			if !ok || !path.IsAbs(p) {
				return fmt.Errorf("%s.data: %v: expected an absolute path in the container", at, v)
			}
			delete(s, "data")
			s[extData] = path.Clean(p)
		}
		if !orig {
			continue
		}
		if n, ok := s["shm_size"].(int); ok {
			s["shm_size"] = strconv.Itoa(n) + "m"
		}
		vols, _ := s["volumes"].([]any)
		for i, v := range vols {
			str, ok := v.(string)
			if !ok {
				continue
			}
			src, rest, ok := strings.Cut(str, ":")
			if !ok || src == "" || strings.ContainsAny(src, "/.~$") {
				continue
			}
			if _, ok := declared[src]; ok {
				continue
			}
			vols[i] = "./" + src + ":" + rest
			l.warn(fmt.Sprintf("%s.volumes[%d]: %q is not declared under the top-level volumes: mounting the directory ./%s (declare it to have a named volume)", at, i, src, src))
		}
	}
	return nil
}

func (l *loader) warn(msg string) {
	if l.warnf != nil {
		l.warnf(msg)
	}
}

// originalData gives each service with data (or db_mode, at DefaultDBData) its data
// volume: declared at the top level as <project>-<service>-data, so up creates it with
// the project's labels and down -v removes it, and mounted at the data path.
func originalData(dict map[string]any, project string) error {
	services, _ := dict["services"].(map[string]any)
	for _, name := range sortedKeys(services) {
		s, ok := services[name].(map[string]any)
		if !ok {
			continue
		}
		target, _ := s[extData].(string)
		if db, _ := s[extDBMode].(bool); target == "" && db {
			target = DefaultDBData
			s[extData] = target
		}
		if target == "" {
			continue
		}
		key := name + "-data"
		vols, _ := dict["volumes"].(map[string]any)
		if vols == nil {
			vols = map[string]any{}
			dict["volumes"] = vols
		}
		want := project + "-" + name + "-data"
		if v, ok := vols[key]; ok {
			if m, _ := v.(map[string]any); m == nil || m["name"] != want {
				return fmt.Errorf("services.%s.data: the top-level volume %q is declared already; the data volume needs that key", name, key)
			}
		}
		vols[key] = map[string]any{"name": want}
		mounts, _ := s["volumes"].([]any)
		for _, m := range mounts {
			if mm, ok := m.(map[string]any); ok && mm["target"] == target {
				return fmt.Errorf("services.%s.data: %s is mounted already by the service's volumes", name, target)
			}
		}
		s["volumes"] = append(mounts, map[string]any{"type": types.VolumeTypeVolume, "source": key, "target": target})
	}
	return nil
}

// DBMode is the service's db_mode and its data path.
func DBMode(s types.ServiceConfig) (bool, string) {
	db, _ := s.Extensions[extDBMode].(bool)
	data, _ := s.Extensions[extData].(string)
	return db, data
}
