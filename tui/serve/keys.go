package serve

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// loadHostKey reads the server's private host key, generating an ed25519
// key (0600, directory 0700) when the file does not exist. Like sshd, it
// refuses a key file that others can read.
func loadHostKey(path string) (gossh.Signer, bool, error) {
	generated := false
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if b, err = generateHostKey(path); err != nil {
			return nil, false, err
		}
		generated = true
	} else if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("host key %s is accessible by others (mode %v); run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	signer, err := gossh.ParsePrivateKey(b)
	if err != nil {
		return nil, false, fmt.Errorf("host key %s: %w", path, err)
	}
	return signer, generated, nil
}

func generateHostKey(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("host key directory: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	blk, err := gossh.MarshalPrivateKey(priv, "degaml-workbench host key")
	if err != nil {
		return nil, err
	}
	b := pem.EncodeToMemory(blk)
	// O_EXCL: never overwrite a key another process created meanwhile.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("host key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	return b, nil
}

// keyring is the set of authorized public keys. It re-reads the file when
// its size or modification time changes, so keys can be added or revoked
// without a restart; a file that stops parsing keeps the last good set.
type keyring struct {
	path string

	mu      sync.Mutex
	keys    []authKey
	size    int64
	modTime time.Time
	onError func(error)
}

func newKeyring(path string, onError func(error)) (*keyring, error) {
	k := &keyring{path: path, onError: onError}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	if err := checkKeysMode(path, st); err != nil {
		return nil, err
	}
	keys, err := parseAuthorizedKeys(path)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("authorized keys %s: no keys in the file", path)
	}
	k.keys, k.size, k.modTime = keys, st.Size(), st.ModTime()
	return k, nil
}

// checkKeysMode refuses a file others can write (sshd's StrictModes): anyone
// who can edit it can let themselves in.
func checkKeysMode(path string, st fs.FileInfo) error {
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("authorized keys %s is writable by others (mode %v); run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	return nil
}

// authKey is one authorized key and its comment (who it belongs to, as
// "alice@laptop"), shown as the seat's name.
type authKey struct {
	key     gossh.PublicKey
	comment string
}

func parseAuthorizedKeys(path string) ([]authKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	var keys []authKey
	for n, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, comment, opts, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n+1, err)
		}
		// Options such as command="…" or from="…" would be silently
		// ignored; refusing them is safer than half-honouring them.
		if len(opts) > 0 {
			return nil, fmt.Errorf("%s:%d: key options (%s) are not supported", path, n+1, opts[0])
		}
		keys = append(keys, authKey{k, comment})
	}
	return keys, nil
}

// allowed reports whether key is in the file.
func (k *keyring) allowed(key ssh.PublicKey) bool {
	_, ok := k.lookup(key)
	return ok
}

// lookup returns key's comment and whether key is in the file.
func (k *keyring) lookup(key ssh.PublicKey) (string, bool) {
	if k == nil || key == nil {
		return "", false
	}
	k.reload()
	k.mu.Lock()
	keys := k.keys
	k.mu.Unlock()
	for _, a := range keys {
		if ssh.KeysEqual(a.key, key) {
			return a.comment, true
		}
	}
	return "", false
}

func (k *keyring) reload() {
	st, err := os.Stat(k.path)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		// A deleted file revokes everyone rather than keeping stale keys.
		k.keys, k.size = nil, -1
		k.onError(fmt.Errorf("authorized keys: %w", err))
		return
	}
	if st.Size() == k.size && st.ModTime().Equal(k.modTime) {
		return
	}
	k.size, k.modTime = st.Size(), st.ModTime()
	if err := checkKeysMode(k.path, st); err != nil {
		k.keys, k.size = nil, -1
		k.onError(err)
		return
	}
	keys, err := parseAuthorizedKeys(k.path)
	if err != nil {
		k.onError(fmt.Errorf("%w (keeping the previous keys)", err))
		return
	}
	k.keys = keys
}
