package network

import (
	"os"
	"testing"
)

func TestHostsFile(t *testing.T) {
	got := string(HostsFile("172.19.0.2", "web", "web", "0123456789ab",
		[]string{"db:10.0.0.5", "cache=10.0.0.6", "172.19.0.3 api proj-api-1", " "}))
	want := hostsHeader + "172.19.0.2\tweb 0123456789ab\n" +
		"10.0.0.5\tdb\n10.0.0.6\tcache\n172.19.0.3 api proj-api-1\n"
	if got != want {
		t.Errorf("HostsFile =\n%s\nwant\n%s", got, want)
	}
	if got := string(HostsFile("", "h", "n", "id", nil)); got != hostsHeader {
		t.Errorf("HostsFile without ip =\n%s", got)
	}
}

func TestResolvConf(t *testing.T) {
	files := map[string]string{}
	read := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	for _, tc := range []struct {
		name, host, resolved string
		dns, search, options []string
		want                 string
	}{
		{name: "loopback removed",
			host: "# comment\nnameserver 127.0.0.1\nnameserver 10.0.0.2\nsearch example.com\noptions ndots:2\nsortlist 10.0.0.0\n",
			want: "nameserver 10.0.0.2\nsearch example.com\noptions ndots:2\nsortlist 10.0.0.0\n"},
		{name: "only loopback", host: "nameserver 127.0.0.1\nnameserver ::1\n",
			want: "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{name: "no file", want: "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{name: "systemd-resolved", host: "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n",
			resolved: "nameserver 192.168.1.1\nsearch lan\n",
			want:     "nameserver 192.168.1.1\nsearch lan\n"},
		{name: "stub without real file", host: "nameserver 127.0.0.53\nsearch .\n",
			want: "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{name: "flags replace", host: "nameserver 10.0.0.2\nsearch a\noptions rotate\n",
			dns: []string{"1.1.1.1"}, search: []string{"b", "c"}, options: []string{"ndots:1"},
			want: "nameserver 1.1.1.1\nsearch b c\noptions ndots:1\n"},
	} {
		files = map[string]string{}
		if tc.host != "" {
			files[hostResolvConf] = tc.host
		}
		if tc.resolved != "" {
			files[resolvedConf] = tc.resolved
		}
		if got := string(resolvConf(read, tc.dns, tc.search, tc.options)); got != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
	if len(ResolvConf(nil, nil, nil)) == 0 {
		t.Error("ResolvConf of this host is empty")
	}
}
