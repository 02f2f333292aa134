package awssns_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/awssns"
)

// An SNS-compatible endpoint receives the Publish call, signed with the
// connection's key for service sns in its region. No SNS-compatible
// server is available to the tests, so this endpoint checks the
// signature itself, by signing the request again.
func TestPublishSignsAndSends(t *testing.T) {
	t.Parallel()
	set := awss3.Settings{Region: "eu-west-3", AccessKeyID: "AKIDSNS", SecretAccessKey: "sns-secret"}
	got := make(chan url.Values, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		at, _ := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), strings.NewReader(string(body)))
		again.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		creds := aws.Credentials{AccessKeyID: "AKIDSNS", SecretAccessKey: "sns-secret"}
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), "sns", "eu-west-3", at); err != nil {
			t.Error(err)
		}
		if want := again.Header.Get("Authorization"); want != r.Header.Get("Authorization") || want == "" {
			http.Error(w, "SignatureDoesNotMatch", http.StatusForbidden)
			return
		}
		form, _ := url.ParseQuery(string(body))
		got <- form
		io.WriteString(w, "<PublishResponse><PublishResult><MessageId>1</MessageId></PublishResult></PublishResponse>")
	}))
	t.Cleanup(srv.Close)
	set.Endpoint = srv.URL
	err := awssns.Publish(context.Background(), set, nil, awssns.Message{TopicArn: "arn:aws:sns:eu-west-3:1:alerts", Subject: "load\nfailed", Message: "see the log"})
	if err != nil {
		t.Fatal(err)
	}
	form := <-got
	if form.Get("Action") != "Publish" || form.Get("TopicArn") != "arn:aws:sns:eu-west-3:1:alerts" || form.Get("Subject") != "load failed" || form.Get("Message") != "see the log" {
		t.Errorf("published %v", form)
	}
	set.SecretAccessKey = "wrong"
	err = awssns.Publish(context.Background(), set, nil, awssns.Message{TopicArn: "arn:aws:sns:eu-west-3:1:alerts", Message: "x"})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a bad signature: %v", err)
	}
}
