package mwaa_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmwaa "github.com/aws/aws-sdk-go-v2/service/mwaa"
	"github.com/aws/aws-sdk-go-v2/service/mwaa/types"
)

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	p := setup(t)
	cases := []struct {
		name   string
		change func(in *awsmwaa.CreateEnvironmentInput)
		want   string
	}{
		{"name pattern", func(in *awsmwaa.CreateEnvironmentInput) { in.Name = aws.String("1bad") },
			"1 validation error detected: Value '1bad' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z][0-9a-zA-Z-_]*$"},
		{"name length", func(in *awsmwaa.CreateEnvironmentInput) { in.Name = aws.String("a" + strings.Repeat("b", 80)) },
			"Member must have length less than or equal to 80"},
		{"role arn", func(in *awsmwaa.CreateEnvironmentInput) { in.ExecutionRoleArn = aws.String("arn:aws:iam::12:role/x") },
			"Value 'arn:aws:iam::12:role/x' at 'executionRoleArn' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"bucket arn", func(in *awsmwaa.CreateEnvironmentInput) { in.SourceBucketArn = aws.String("arn:aws:s3:::Bad_Bucket") },
			"at 'sourceBucketArn' failed to satisfy constraint"},
		{"one subnet", func(in *awsmwaa.CreateEnvironmentInput) { in.NetworkConfiguration.SubnetIds = []string{"subnet-a"} },
			"at 'networkConfiguration.subnetIds' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"subnet pattern", func(in *awsmwaa.CreateEnvironmentInput) {
			in.NetworkConfiguration.SubnetIds = []string{"subnet-a", "net-b"}
		},
			"Value 'net-b' at 'networkConfiguration.subnetIds.2.member' failed to satisfy constraint"},
		{"six security groups", func(in *awsmwaa.CreateEnvironmentInput) {
			in.NetworkConfiguration.SecurityGroupIds = []string{"sg-1", "sg-2", "sg-3", "sg-4", "sg-5", "sg-6"}
		}, "at 'networkConfiguration.securityGroupIds' failed to satisfy constraint: Member must have length less than or equal to 5"},
		{"option key", func(in *awsmwaa.CreateEnvironmentInput) {
			in.AirflowConfigurationOptions = map[string]string{"Core.X": "1"}
		},
			"Value at 'airflowConfigurationOptions' failed to satisfy constraint: Map keys must satisfy constraint"},
		{"option value", func(in *awsmwaa.CreateEnvironmentInput) {
			in.AirflowConfigurationOptions = map[string]string{"core.x": "tab\there"}
		},
			"Map value must satisfy constraint"},
		{"option without section", func(in *awsmwaa.CreateEnvironmentInput) {
			in.AirflowConfigurationOptions = map[string]string{"parallelism": "3"}
		},
			`Invalid Airflow configuration option "parallelism"`},
		{"blocked option", func(in *awsmwaa.CreateEnvironmentInput) {
			in.AirflowConfigurationOptions = map[string]string{"core.executor": "LocalExecutor"}
		},
			"The following Airflow configuration options cannot be overridden: core.executor."},
		{"runner option", func(in *awsmwaa.CreateEnvironmentInput) {
			in.AirflowConfigurationOptions = map[string]string{"logging.worker_log_server_port": "1"}
		},
			"The following Airflow configuration options cannot be overridden: logging.worker_log_server_port."},
		{"version", func(in *awsmwaa.CreateEnvironmentInput) { in.AirflowVersion = aws.String("2.3.4") },
			"Invalid AirflowVersion: 2.3.4. Supported versions for Amazon MWAA are: 2.4.3, 2.5.1, 2.6.3, 2.7.2, 2.8.1, 2.9.2, 2.10.1, 2.10.3, 2.11.0."},
		{"version pattern", func(in *awsmwaa.CreateEnvironmentInput) { in.AirflowVersion = aws.String("2.10.3-rc1") },
			"at 'airflowVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-z.]+$"},
		{"class", func(in *awsmwaa.CreateEnvironmentInput) { in.EnvironmentClass = aws.String("mw1.huge") }, "Invalid EnvironmentClass: mw1.huge."},
		{"min workers 0", func(in *awsmwaa.CreateEnvironmentInput) { in.MinWorkers = aws.Int32(0) },
			"Value '0' at 'minWorkers' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"min above max", func(in *awsmwaa.CreateEnvironmentInput) { in.MinWorkers = aws.Int32(5) }, "MinWorkers must be less than or equal to MaxWorkers."},
		{"max workers quota", func(in *awsmwaa.CreateEnvironmentInput) { in.MaxWorkers = aws.Int32(26) }, "MaxWorkers must be between 1 and 25."},
		{"schedulers 6", func(in *awsmwaa.CreateEnvironmentInput) { in.Schedulers = aws.Int32(6) },
			"Value '6' at 'schedulers' failed to satisfy constraint: Member must have value less than or equal to 5"},
		{"one scheduler", func(in *awsmwaa.CreateEnvironmentInput) { in.Schedulers = aws.Int32(1) }, "Schedulers must be between 2 and 5"},
		{"micro workers", func(in *awsmwaa.CreateEnvironmentInput) { in.EnvironmentClass = aws.String("mw1.micro") },
			"Environment class mw1.micro supports exactly 1 worker"},
		{"webservers", func(in *awsmwaa.CreateEnvironmentInput) { in.MaxWebservers = aws.Int32(6) }, "MinWebservers and MaxWebservers must be between 2 and 5."},
		{"maintenance window", func(in *awsmwaa.CreateEnvironmentInput) { in.WeeklyMaintenanceWindowStart = aws.String("MON:25:00") },
			"at 'weeklyMaintenanceWindowStart' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"log level", func(in *awsmwaa.CreateEnvironmentInput) {
			in.LoggingConfiguration.SchedulerLogs.LogLevel = "LOUD"
		}, "Value 'LOUD' at 'loggingConfiguration.schedulerLogs.logLevel' failed to satisfy constraint: Member must satisfy enum value set: [CRITICAL, ERROR, WARNING, INFO, DEBUG]"},
		{"access mode", func(in *awsmwaa.CreateEnvironmentInput) { in.WebserverAccessMode = "OPEN" },
			"at 'webserverAccessMode' failed to satisfy constraint: Member must satisfy enum value set"},
		{"kms key", func(in *awsmwaa.CreateEnvironmentInput) { in.KmsKey = aws.String("my-key") }, "at 'kmsKey' failed to satisfy constraint"},
		{"tag key", func(in *awsmwaa.CreateEnvironmentInput) { in.Tags = map[string]string{"bad*key": "v"} },
			"Value at 'tags' failed to satisfy constraint: Map keys must satisfy constraint"},
		{"two errors", func(in *awsmwaa.CreateEnvironmentInput) {
			in.ExecutionRoleArn = aws.String("role")
			in.DagS3Path = aws.String("")
		},
			"2 validation errors detected: Value 'role' at 'executionRoleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: " +
				"^arn:aws(-[a-z]+)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$; Value '' at 'dagS3Path' failed to satisfy constraint: Member must have length greater than or equal to 1"},
	}
	for _, c := range cases {
		in := createInput("v" + strings.ReplaceAll(c.name, " ", ""))
		c.change(in)
		_, err := p.admin.CreateEnvironment(t.Context(), in)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		ae := apiError(t, err, "ValidationException")
		if !strings.Contains(ae.ErrorMessage(), c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, ae.ErrorMessage(), c.want)
		}
	}
	out, err := p.admin.ListEnvironments(t.Context(), &awsmwaa.ListEnvironmentsInput{})
	if err != nil || len(out.Environments) != 0 {
		t.Fatalf("a refused create left environments: %v %v", out, err)
	}
	// ListEnvironments's MaxResults bound is the server's as well as the SDK's.
	_, err = p.admin.ListEnvironments(t.Context(), &awsmwaa.ListEnvironmentsInput{MaxResults: aws.Int32(26)})
	apiError(t, err, "ValidationException")
	p.create(createInput("dup"))
	_, err = p.admin.CreateEnvironment(t.Context(), createInput("dup"))
	apiError(t, err, "ValidationException")
}

func TestCreateFailedReportsTheReason(t *testing.T) {
	t.Parallel()
	p := setup(t)
	in := createInput("broken")
	in.AirflowConfigurationOptions = map[string]string{"core.default_timezone": "Mars/Base"}
	env := p.create(in)
	if env.Status != types.EnvironmentStatusCreateFailed || env.LastUpdate == nil || env.LastUpdate.Status != types.UpdateStatusFailed ||
		env.LastUpdate.Error == nil || aws.ToString(env.LastUpdate.Error.ErrorMessage) != errBadZone.Error() {
		t.Fatalf("got %s %+v", env.Status, env.LastUpdate)
	}
	// A failed environment can be deleted.
	if _, err := p.admin.DeleteEnvironment(t.Context(), &awsmwaa.DeleteEnvironmentInput{Name: aws.String("broken")}); err != nil {
		t.Fatal(err)
	}
	p.svc.Wait()
	_, err := p.admin.GetEnvironment(t.Context(), &awsmwaa.GetEnvironmentInput{Name: aws.String("broken")})
	apiError(t, err, "ResourceNotFoundException")
}

func TestSignaturesAreChecked(t *testing.T) {
	t.Parallel()
	p := setup(t)
	ctx := t.Context()
	_, err := p.client("AKIAUNKNOWN0000000", "whatever").ListEnvironments(ctx, &awsmwaa.ListEnvironmentsInput{})
	apiError(t, err, "UnrecognizedClientException")
	_, err = p.client(p.keyID, "wrong-secret").ListEnvironments(ctx, &awsmwaa.ListEnvironmentsInput{})
	ae := apiError(t, err, "InvalidSignatureException")
	if !strings.HasPrefix(ae.ErrorMessage(), "The request signature we calculated does not match the signature you provided.") {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	// A deleted key stops working at once in the running control plane.
	if err := p.svc.Keys().Delete("admin"); err != nil {
		t.Fatal(err)
	}
	_, err = p.admin.ListEnvironments(ctx, &awsmwaa.ListEnvironmentsInput{})
	apiError(t, err, "UnrecognizedClientException")
}

func TestPoliciesAuthorize(t *testing.T) {
	t.Parallel()
	p := setup(t)
	ctx := t.Context()
	p.create(createInput("dev"))
	id, secret, err := p.svc.Keys().Create("viewer", []byte(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": ["airflow:Get*", "airflow:List*"], "Resource": "*"},
		{"Effect": "Allow", "Action": ["airflow:CreateWebLoginToken", "airflow:InvokeRestApi"], "Resource": "arn:aws:airflow:*:*:role/dev/Viewer"},
		{"Effect": "Deny", "Action": "airflow:GetEnvironment", "Resource": "arn:aws:airflow:*:*:environment/secret*"}]}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := p.client(id, secret)
	if _, err := c.GetEnvironment(ctx, &awsmwaa.GetEnvironmentInput{Name: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateEnvironment(ctx, createInput("mine"))
	ae := apiError(t, err, "AccessDeniedException")
	want := "User: arn:aws:iam::000000000000:user/viewer is not authorized to perform: airflow:CreateEnvironment on resource: " +
		"arn:aws:airflow:us-east-1:000000000000:environment/mine because no identity-based policy allows the airflow:CreateEnvironment action"
	if ae.ErrorMessage() != want {
		t.Fatalf("message:\n got %s\nwant %s", ae.ErrorMessage(), want)
	}
	_, err = c.GetEnvironment(ctx, &awsmwaa.GetEnvironmentInput{Name: aws.String("secret1")})
	if ae := apiError(t, err, "AccessDeniedException"); !strings.HasSuffix(ae.ErrorMessage(), "with an explicit deny in an identity-based policy") {
		t.Fatalf("explicit deny message %q", ae.ErrorMessage())
	}
	tok, err := c.CreateWebLoginToken(ctx, &awsmwaa.CreateWebLoginTokenInput{Name: aws.String("dev")})
	if err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(tok.WebServerHostname)
	// A Viewer session reads DAGs but not users.
	if got := loginRolesOf(t, host, aws.ToString(tok.WebToken), "user%2Fviewer"); !strings.HasPrefix(got, "403") {
		t.Fatalf("a Viewer read a user: %s", got)
	}
	// The Viewer role may read but not write through InvokeRestApi.
	_, err = c.InvokeRestApi(ctx, &awsmwaa.InvokeRestApiInput{Name: aws.String("dev"), Method: types.RestApiMethodPost,
		Path: aws.String("/pools"), Body: nil})
	var ce *types.RestApiClientException
	if !apiErrorAs(err, &ce) || aws.ToInt32(ce.RestApiStatusCode) != 403 {
		t.Fatalf("InvokeRestApi as Viewer: %v", err)
	}
	_, err = c.CreateCliToken(ctx, &awsmwaa.CreateCliTokenInput{Name: aws.String("dev")})
	apiError(t, err, "AccessDeniedException")
}

func TestRestartAdoptsEnvironments(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.create(createInput("one"))
	p.create(createInput("two"))
	before := p.get("one").WebserverUrl
	p.stop()
	p.start()
	p.admin = p.client(p.keyID, p.secret)
	p.svc.Wait()
	for _, name := range []string{"one", "two"} {
		starts, adopts := p.runner.counts(name)
		if starts != 1 || adopts != 1 {
			t.Errorf("%s: %d starts and %d adoptions, want 1 and 1", name, starts, adopts)
		}
		if env := p.get(name); env.Status != types.EnvironmentStatusAvailable {
			t.Errorf("%s after restart: %s", name, env.Status)
		}
	}
	if aws.ToString(p.get("one").WebserverUrl) != aws.ToString(before) {
		t.Error("the adopted environment moved")
	}
}
