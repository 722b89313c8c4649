package digest

import (
	"regexp"
	"testing"
)

// The original's expressions, which the hand-written checks replace.
var (
	originalAnchored = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
	originalHex      = regexp.MustCompile(`^[a-f0-9]+$`)
)

func TestWellFormedMatchesOriginal(t *testing.T) {
	for _, s := range []string{
		"sha256:abc", "a:b", "a.b+c_d-e:Z=_-9", "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
		"", ":", "a:", ":b", "A:b", ".a:b", "a.:b", "a..b:c", "a.-b:c", "a-b.c:d", "a:b:c", "a:b/c", "a b:c",
		"sha256:+", "sha256:é", "0:0", "a_:b", "_a:b", "a+b+c:=",
	} {
		if got, want := wellFormed(s), originalAnchored.MatchString(s); got != want {
			t.Errorf("wellFormed(%q) = %v, the original's expression says %v", s, got, want)
		}
	}
}

func TestValidateHexMatchesOriginal(t *testing.T) {
	ok := "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef"
	for _, enc := range []string{ok, ok[:63] + "A", ok[:63] + "g", ok[:63] + ":", "x" + ok[1:], ok[:63] + "0"} {
		err := SHA256.Validate(enc)
		if want := originalHex.MatchString(enc); (err == nil) != want {
			t.Errorf("SHA256.Validate(%q) = %v, the original's expression says valid=%v", enc, err, want)
		}
		if err != nil && err != ErrDigestInvalidFormat {
			t.Errorf("SHA256.Validate(%q) = %v, want ErrDigestInvalidFormat", enc, err)
		}
	}
	if err := SHA256.Validate(ok[:62]); err != ErrDigestInvalidLength {
		t.Errorf("short: %v, want ErrDigestInvalidLength", err)
	}
	if err := Algorithm("md5").Validate(ok); err != ErrDigestUnsupported {
		t.Errorf("md5: %v, want ErrDigestUnsupported", err)
	}
}
