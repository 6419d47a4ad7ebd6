package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers. The signature covers "<timestamp>.<body>" so a captured
// request cannot be replayed later with a fresh timestamp.
const (
	HeaderSignature = "X-Kansoku-Signature"
	HeaderTimestamp = "X-Kansoku-Timestamp"
	HeaderDelivery  = "X-Kansoku-Delivery"
)

// maxResponse bounds what is read of a webhook's response.
const maxResponse = 64 << 10

// ErrBadSignature is returned by Verify.
var ErrBadSignature = errors.New("alert: bad webhook signature")

// Sign returns the X-Kansoku-Signature value for body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a received webhook: the signature over timestamp and body,
// and that the timestamp is within maxSkew of now (replays are refused).
func Verify(secret, sig, timestamp string, body []byte, now time.Time, maxSkew time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrBadSignature, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("%w: timestamp %s off by %s", ErrBadSignature, timestamp, d)
	}
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}

func (d *Dispatcher) postWebhook(ctx context.Context, dl *Delivery) error {
	body, err := json.Marshal(dl.Payload)
	if err != nil {
		return fmt.Errorf("encode payload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.sub.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	ts := d.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kansoku-alert/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(dl.sub.Webhook.Secret, ts, body))
	req.Header.Set(HeaderDelivery, dl.ID)
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook post: status %d", resp.StatusCode)
	}
	return nil
}

// csvOf renders one row with its header.
func csvOf(cols, row []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(cols)
	_ = w.Write(row)
	w.Flush()
	return b.String()
}
