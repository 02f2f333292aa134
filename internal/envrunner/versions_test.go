package envrunner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/awss3/s3test"
	"github.com/windsock/windsock/internal/envrunner"
)

// TestObjectVersionsFromS3: with a versioned bucket on a real S3-compatible
// server, the environment reads the plugins and requirements object
// versions its spec names, not the latest ones, and a new version takes
// effect through an update (MWAA's PluginsS3ObjectVersion and
// RequirementsS3ObjectVersion).
func TestObjectVersionsFromS3(t *testing.T) {
	t.Parallel()
	srv := s3test.StartVersioned(t, "vbucket")
	set := awss3.Settings{Endpoint: srv.URL, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	tr := setup(t, func(c *envrunner.Config) { c.S3 = &set })
	client := awss3.NewClient(set, nil)
	ctx := context.Background()
	if _, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("vbucket"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put := func(key, body string) string {
		out, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vbucket"), Key: aws.String(key), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VersionId)
	}
	put("dags/.keep", "")
	plugins1 := put("plugins.zip", "plugins version one")
	req1 := put("requirements.txt", "# nothing to install, version one\n")
	plugins2 := put("plugins.zip", "plugins version two")
	req2 := put("requirements.txt", "# nothing to install, version two\n")

	s := spec("versions", "vbucket")
	s.PluginsS3Path, s.PluginsS3ObjectVersion = "plugins.zip", plugins1
	s.RequirementsS3Path, s.RequirementsS3ObjectVersion = "requirements.txt", req1
	tr.start(s)
	h := envrunner.EnvironmentHome(tr.home, "versions")
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(h, name))
		return string(b)
	}
	if read("plugins.zip") != "plugins version one" || !strings.Contains(read("requirements.txt"), "version one") {
		t.Fatalf("at start: plugins %q, requirements %q; want the versions the spec names", read("plugins.zip"), read("requirements.txt"))
	}

	next := s
	next.PluginsS3ObjectVersion, next.RequirementsS3ObjectVersion = plugins2, req2
	if _, err := tr.Update(ctx, s, next); err != nil {
		t.Fatal(err)
	}
	if read("plugins.zip") != "plugins version two" || !strings.Contains(read("requirements.txt"), "version two") {
		t.Fatalf("after the update: plugins %q, requirements %q", read("plugins.zip"), read("requirements.txt"))
	}
}
