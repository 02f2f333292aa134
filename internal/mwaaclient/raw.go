package mwaaclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Raw calls the control plane's own operations (under /windsock/), which
// the MWAA SDK does not know, signed as the SDK signs its calls.
type Raw struct {
	t      target
	signer *v4.Signer
	http   *http.Client
}

// NewRaw returns a Raw client found as New finds its settings.
func NewRaw(s Settings) (*Raw, error) {
	t, err := resolve(s)
	if err != nil {
		return nil, err
	}
	// No timeout: a followed log stream lasts until it is interrupted.
	return &Raw{t: t, signer: v4.NewSigner(), http: &http.Client{}}, nil
}

// Do sends a signed request for operation op (named in errors) and
// returns the response of a 2xx status; any other status is returned as
// the error the control plane answered, worded as Describe words it.
// The caller closes the body.
func (c *Raw) Do(ctx context.Context, op, method, path string, query url.Values, body []byte) (*http.Response, error) {
	u := strings.TrimSuffix(c.t.endpoint, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	creds, err := c.t.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := c.signer.SignHTTP(ctx, creds, req, hash, "airflow", c.t.region, time.Now()); err != nil {
		return nil, fmt.Errorf("%s: sign: %w", op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return nil, apiError(op, resp, b)
}

// apiError reads a restJson1 error: the code from X-Amzn-ErrorType (or
// __type), the message from message or Message.
func apiError(op string, resp *http.Response, body []byte) error {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Upper   string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e)
	code, _, _ := strings.Cut(firstOf(resp.Header.Get("X-Amzn-ErrorType"), e.Type, resp.Status), ":")
	return fmt.Errorf("an error occurred (%s) when calling the %s operation: %s", code, op, firstOf(e.Message, e.Upper, string(body)))
}
