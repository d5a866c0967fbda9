package api

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Listing cursors are sealed (AES-GCM under a key derived from the server's secret): a
// suppression cursor holds the last address listed, which must not travel readable in URLs
// (proxy logs, browser history), and a sealed cursor cannot be forged or edited into a
// different query. A delivery cursor is bound to its campaign. Anything that does not open
// is a 400 naming the parameter.

// cursorKey derives the cursors' key, distinct from every other use of the secret.
func (s *Server) cursorKey() (cipher.AEAD, error) {
	if len(s.Secret) == 0 {
		return nil, fmt.Errorf("api: no secret to seal listing cursors with")
	}
	mac := hmac.New(sha256.New, s.Secret)
	mac.Write([]byte("breachnotice listing cursor v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("api: cursor key: %w", err)
	}
	return cipher.NewGCM(block)
}

func (s *Server) seal(plain string) (string, error) {
	aead, err := s.cursorKey()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(plain), nil)), nil
}

var errBadCursor = breach.Errorf(breach.EINVALID, "after: not a cursor this listing returned (pass the next value of the previous page as is)")

func (s *Server) open(cursor string) (string, error) {
	aead, err := s.cursorKey()
	if err != nil {
		return "", err
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < aead.NonceSize() {
		return "", errBadCursor
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], nil)
	if err != nil {
		return "", errBadCursor
	}
	return string(plain), nil
}

// deliveryCursor seals the key a campaign's next delivery page starts after.
func (s *Server) deliveryCursor(campaignID string, k breach.DeliveryKey) (string, error) {
	return s.seal("d\x00" + campaignID + "\x00" + strconv.FormatInt(k.RecipientID, 10) + "\x00" + string(k.Channel))
}

func (s *Server) openDeliveryCursor(campaignID, cursor string) (*breach.DeliveryKey, error) {
	plain, err := s.open(cursor)
	if err != nil {
		return nil, err
	}
	f := strings.Split(plain, "\x00")
	if len(f) != 4 || f[0] != "d" || f[1] != campaignID {
		return nil, errBadCursor
	}
	id, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return nil, errBadCursor
	}
	return &breach.DeliveryKey{RecipientID: id, Channel: breach.Channel(f[3])}, nil
}

// suppressionCursor seals the key the next suppression page starts after.
func (s *Server) suppressionCursor(k breach.SuppressionKey) (string, error) {
	return s.seal("s\x00" + string(k.Channel) + "\x00" + k.Address)
}

func (s *Server) openSuppressionCursor(cursor string) (*breach.SuppressionKey, error) {
	plain, err := s.open(cursor)
	if err != nil {
		return nil, err
	}
	f := strings.SplitN(plain, "\x00", 3)
	if len(f) != 3 || f[0] != "s" {
		return nil, errBadCursor
	}
	return &breach.SuppressionKey{Channel: breach.Channel(f[1]), Address: f[2]}, nil
}
