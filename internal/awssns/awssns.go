// Package awssns publishes messages to Amazon SNS, or to any service that
// speaks SNS's Publish query API, signed with SigV4 from an Airflow aws
// connection's settings (see awss3.SettingsFrom).
package awssns

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/windsock/windsock/internal/awss3"
)

// Message is one notification.
type Message struct {
	TopicArn, Subject, Message string
}

// Publish sends m with set's endpoint (https://sns.REGION.amazonaws.com/
// when none) and credentials. client nil means http.DefaultClient.
func Publish(ctx context.Context, set awss3.Settings, client *http.Client, m Message) error {
	if m.TopicArn == "" {
		return fmt.Errorf("publish to SNS: no topic ARN")
	}
	endpoint := set.Endpoint
	if endpoint == "" {
		endpoint = "https://sns." + set.Region + ".amazonaws.com/"
	}
	form := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {m.TopicArn}, "Message": {m.Message}}
	if m.Subject != "" {
		// SNS takes at most 100 characters of subject, on one line.
		subject := strings.Join(strings.Fields(m.Subject), " ")
		if len(subject) > 100 {
			subject = subject[:100]
		}
		form.Set("Subject", subject)
	}
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("publish to SNS: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if set.AccessKeyID != "" || set.SecretAccessKey != "" {
		creds := aws.Credentials{AccessKeyID: set.AccessKeyID, SecretAccessKey: set.SecretAccessKey, SessionToken: set.SessionToken}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sns", set.Region, time.Now().UTC()); err != nil {
			return fmt.Errorf("publish to SNS: sign: %w", err)
		}
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("publish to SNS %s: %w", m.TopicArn, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("publish to SNS %s: %s answered %s: %s", m.TopicArn, endpoint, resp.Status, strings.TrimSpace(string(answer)))
	}
	return nil
}
