package state

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/minibox/minibox/pkg/atomicfile"
)

// ErrUnreadable means the file exists but cannot be read as a state document with the
// configured key. The daemon refuses to start and never overwrites such a file.
var ErrUnreadable = errors.New("state unreadable")

// Store is one state file.
type Store struct {
	path string
	aead cipher.AEAD // nil: plain JSON
	mu   sync.Mutex  // serialises writes
}

// Open returns the store at path; key is 32 bytes or nil.
func Open(path string, key []byte) (*Store, error) {
	s := &Store{path: path}
	if key != nil {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		if s.aead, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Load decodes the document into v. A missing file leaves v untouched. It reports whether
// the file was plaintext while a key is set (the caller rewrites it encrypted).
func (s *Store) Load(v any) (migrate bool, err error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	plain := json.Valid(b) && len(bytes.TrimSpace(b)) > 0 && bytes.TrimSpace(b)[0] == '{'
	switch {
	case s.aead == nil && !plain:
		return false, fmt.Errorf("%s is encrypted or corrupt; set MINIBOX_ENCRYPTION_KEY: %w", s.path, ErrUnreadable)
	case s.aead != nil && !plain:
		n := s.aead.NonceSize()
		if len(b) < n+s.aead.Overhead() {
			return false, fmt.Errorf("%s is too short to be encrypted state: %w", s.path, ErrUnreadable)
		}
		if b, err = s.aead.Open(nil, b[:n], b[n:], nil); err != nil {
			return false, fmt.Errorf("%s does not decrypt with MINIBOX_ENCRYPTION_KEY (wrong key or corrupt file): %w", s.path, ErrUnreadable)
		}
	case s.aead != nil && plain:
		migrate = true
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %v: %w", s.path, err, ErrUnreadable)
	}
	return migrate, nil
}

// Save replaces the document with v, atomically; sealed with a fresh nonce when keyed.
func (s *Store) Save(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.SaveRaw(b)
}

// SaveRaw replaces the document with already-encoded JSON.
func (s *Store) SaveRaw(b []byte) error {
	if s.aead != nil {
		nonce := make([]byte, s.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return err
		}
		b = s.aead.Seal(nonce, nonce, b, nil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return atomicfile.WriteFile(s.path, b, 0o600)
}
