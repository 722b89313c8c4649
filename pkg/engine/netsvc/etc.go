package netsvc

import (
	"cmp"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/engine/rundir"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/network"
)

// EtcFiles are the paths of a container's /etc/hosts, resolv.conf and hostname on the
// host, in its directory.
type EtcFiles struct {
	Hosts, Resolv, Hostname string
}

// EtcRequest is what a container's network files are made of.
type EtcRequest struct {
	ID, Name, Hostname string
	Mode               string // its network mode
	Addr               netip.Addr
	Endpoints          []Endpoint
	// Dir is the container's directory; SharedDir, for a container:<name> mode, the
	// directory of the container whose network it shares.
	Dir, SharedDir string
	// ExtraHosts are --add-host's name:ip (ip host-gateway: the default bridge's gateway).
	ExtraHosts                []string
	DNS, DNSSearch, DNSOption []string
}

// WriteEtcFiles writes the container's hosts, resolv.conf and hostname to f, and for
// network mode host points f at copies of the host's own.
func (s *Service) WriteEtcFiles(req EtcRequest, f *EtcFiles) error {
	switch {
	case req.Mode == "host":
		return copyHostEtc(req.Dir, f)
	case req.SharedDir != "":
		return copySharedEtc(req.SharedDir, req.Hostname, f)
	}
	var extra []string
	for _, h := range req.ExtraHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok {
			return errdefs.Invalid(fmt.Sprintf("--add-host %q: expected name:ip", h))
		}
		if ip == "host-gateway" {
			ip = network.Gateway(s.cfg.BridgeSubnet).String()
		}
		extra = append(extra, name+":"+ip)
	}
	ip := ""
	if req.Addr.IsValid() {
		ip = req.Addr.String()
	}
	dns := req.DNS
	if len(dns) == 0 {
		dns = s.Nameservers(req.Mode, req.Endpoints)
	}
	files := map[string][]byte{
		f.Hosts:    network.HostsFile(ip, req.Hostname, req.Name, req.ID[:12], extra),
		f.Resolv:   network.ResolvConf(dns, req.DNSSearch, req.DNSOption),
		f.Hostname: []byte(req.Hostname + "\n"),
	}
	// Each is a create and a rename in the container directory: together, not one by one.
	errs := make(chan error, len(files))
	for p, b := range files {
		go func() { errs <- rundir.ReplaceIfChanged(p, b) }()
	}
	var err error
	for range files {
		err = cmp.Or(err, <-errs)
	}
	return err
}

// copyHostEtc copies the host's own files into dir, as Docker does: a bind of /etc/hosts
// itself would let the container write the host's. Loopback servers stay: the container
// shares the host's network namespace.
func copyHostEtc(dir string, f *EtcFiles) error {
	for _, e := range []struct {
		host string
		dst  *string
	}{{"/etc/hosts", &f.Hosts}, {"/etc/resolv.conf", &f.Resolv}} {
		b, err := os.ReadFile(e.host)
		if err != nil {
			continue // none on the host: the image's, as before
		}
		p := filepath.Join(dir, filepath.Base(e.host))
		if err := atomicfile.Replace(p, b, 0o644); err != nil {
			return err
		}
		*e.dst = p
	}
	return nil
}

// copySharedEtc copies /etc/hosts and resolv.conf of the container (in src) whose network
// a `container:<name>` one shares: the same addresses and resolver.
func copySharedEtc(src, hostname string, f *EtcFiles) error {
	for _, e := range []struct{ name, dst string }{{"hosts", f.Hosts}, {"resolv.conf", f.Resolv}} {
		b, err := os.ReadFile(filepath.Join(src, e.name))
		if err != nil {
			return err
		}
		if err := rundir.ReplaceIfChanged(e.dst, b); err != nil {
			return err
		}
	}
	return rundir.ReplaceIfChanged(f.Hostname, []byte(hostname+"\n"))
}
