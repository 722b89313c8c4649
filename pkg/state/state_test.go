package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

type doc struct{ Secret string }

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestEncryptedRoundTripHoldsNoPlaintext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	s, _ := Open(p, key(1))
	if err := s.Save(doc{"hunter2"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	if bytes.Contains(raw, []byte("hunter2")) || bytes.Contains(raw, []byte("Secret")) {
		t.Fatal("plaintext in encrypted state")
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	var d doc
	if _, err := s.Load(&d); err != nil || d.Secret != "hunter2" {
		t.Fatalf("load: %v %+v", err, d)
	}
	// A fresh nonce each write: two saves of the same document differ.
	s.Save(doc{"hunter2"})
	raw2, _ := os.ReadFile(p)
	if bytes.Equal(raw, raw2) {
		t.Fatal("nonce reused")
	}
}

func TestWrongKeyRefusedAndFileKept(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	s, _ := Open(p, key(1))
	s.Save(doc{"x"})
	before, _ := os.ReadFile(p)
	s2, _ := Open(p, key(2))
	var d doc
	if _, err := s2.Load(&d); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("wrong key: %v", err)
	}
	s3, _ := Open(p, nil)
	if _, err := s3.Load(&d); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("no key over encrypted file: %v", err)
	}
	after, _ := os.ReadFile(p)
	if !bytes.Equal(before, after) {
		t.Fatal("file changed")
	}
}

func TestPlainMigratesAndCorruptRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	os.WriteFile(p, []byte(`{"Secret":"a"}`), 0o600)
	s, _ := Open(p, key(3))
	var d doc
	migrate, err := s.Load(&d)
	if err != nil || !migrate || d.Secret != "a" {
		t.Fatalf("plain with key: %v %v %+v", migrate, err, d)
	}
	os.WriteFile(p, []byte(`{"Secret":`), 0o600)
	s2, _ := Open(p, nil)
	if _, err := s2.Load(&d); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("corrupt: %v", err)
	}
}
