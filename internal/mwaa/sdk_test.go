package mwaa_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmwaa "github.com/aws/aws-sdk-go-v2/service/mwaa"
	"github.com/aws/aws-sdk-go-v2/service/mwaa/document"
	"github.com/aws/aws-sdk-go-v2/service/mwaa/types"
	"github.com/aws/smithy-go"

	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/mwaa"
	"github.com/windsock/windsock/internal/mwaaclient"
)

// plane is a control plane served over HTTP with a test runner.
type plane struct {
	t      *testing.T
	home   string
	runner *testRunner
	svc    *mwaa.Service
	srv    *httptest.Server
	// admin is a client with a key without policy (full access).
	admin  *awsmwaa.Client
	keyID  string
	secret string
}

func setup(t *testing.T) *plane {
	t.Helper()
	p := &plane{t: t, home: t.TempDir(), runner: newTestRunner(t)}
	p.start()
	id, secret, err := p.svc.Keys().Create("admin", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p.keyID, p.secret = id, secret
	p.admin = p.client(id, secret)
	return p
}

// start (re)starts the control plane over the same home and runner.
func (p *plane) start() {
	p.t.Helper()
	svc, err := mwaa.New(mwaa.Config{Home: p.home, Runner: p.runner})
	if err != nil {
		p.t.Fatal(err)
	}
	if err := svc.Start(p.t.Context()); err != nil {
		p.t.Fatal(err)
	}
	p.svc = svc
	p.srv = httptest.NewServer(svc.Handler())
	p.t.Cleanup(func() { p.srv.Close(); svc.Stop() })
}

func (p *plane) stop() {
	p.srv.Close()
	p.svc.Stop()
}

func (p *plane) client(id, secret string) *awsmwaa.Client {
	p.t.Helper()
	c, err := mwaaclient.New(mwaaclient.Settings{Endpoint: p.srv.URL,
		Environ: []string{"AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret, "HOME=" + p.t.TempDir()}})
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

func createInput(name string) *awsmwaa.CreateEnvironmentInput {
	return &awsmwaa.CreateEnvironmentInput{
		Name:             aws.String(name),
		ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/service-role/MwaaRole"),
		SourceBucketArn:  aws.String("arn:aws:s3:::my-dags"),
		DagS3Path:        aws.String("dags"),
		NetworkConfiguration: &types.NetworkConfiguration{SubnetIds: []string{"subnet-a", "subnet-b"},
			SecurityGroupIds: []string{"sg-1"}},
		AirflowVersion:   aws.String("2.10.3"),
		EnvironmentClass: aws.String("mw1.medium"),
		MaxWorkers:       aws.Int32(4),
		Tags:             map[string]string{"team": "data"},
		LoggingConfiguration: &types.LoggingConfigurationInput{
			SchedulerLogs: &types.ModuleLoggingConfigurationInput{Enabled: aws.Bool(true), LogLevel: types.LoggingLevelWarning},
		},
		AirflowConfigurationOptions: map[string]string{"core.default_timezone": "utc", "core.dag_concurrency": "8"},
	}
}

// create creates an environment and waits for the end of its start.
func (p *plane) create(in *awsmwaa.CreateEnvironmentInput) *types.Environment {
	p.t.Helper()
	out, err := p.admin.CreateEnvironment(p.t.Context(), in)
	if err != nil {
		p.t.Fatalf("CreateEnvironment: %v", err)
	}
	if want := "arn:aws:airflow:us-east-1:000000000000:environment/" + *in.Name; aws.ToString(out.Arn) != want {
		p.t.Fatalf("Arn = %s, want %s", aws.ToString(out.Arn), want)
	}
	p.svc.Wait()
	return p.get(*in.Name)
}

func (p *plane) get(name string) *types.Environment {
	p.t.Helper()
	out, err := p.admin.GetEnvironment(p.t.Context(), &awsmwaa.GetEnvironmentInput{Name: aws.String(name)})
	if err != nil {
		p.t.Fatalf("GetEnvironment: %v", err)
	}
	return out.Environment
}

func apiError(t *testing.T, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s: %s, want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	return ae
}

func TestLifecycleWithGoSDK(t *testing.T) {
	t.Parallel()
	p := setup(t)
	ctx := t.Context()
	env := p.create(createInput("etl"))

	if env.Status != types.EnvironmentStatusAvailable {
		t.Fatalf("Status = %s, want AVAILABLE (LastUpdate %+v)", env.Status, env.LastUpdate)
	}
	checks := map[string][2]string{
		"WebserverUrl":     {aws.ToString(env.WebserverUrl), strings.TrimPrefix(p.runner.envs["etl"].srv.URL, "http://")},
		"ServiceRoleArn":   {aws.ToString(env.ServiceRoleArn), "arn:aws:iam::000000000000:role/aws-service-role/airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA"},
		"SchedulerLogs":    {aws.ToString(env.LoggingConfiguration.SchedulerLogs.CloudWatchLogGroupArn), "arn:aws:logs:us-east-1:000000000000:log-group:airflow-etl-Scheduler"},
		"TaskLogs":         {aws.ToString(env.LoggingConfiguration.TaskLogs.CloudWatchLogGroupArn), "arn:aws:logs:us-east-1:000000000000:log-group:airflow-etl-Task"},
		"DagProcessing":    {aws.ToString(env.LoggingConfiguration.DagProcessingLogs.CloudWatchLogGroupArn), "arn:aws:logs:us-east-1:000000000000:log-group:airflow-etl-DAGProcessing"},
		"SchedulerLevel":   {string(env.LoggingConfiguration.SchedulerLogs.LogLevel), "WARNING"},
		"LastUpdate":       {string(env.LastUpdate.Status), "SUCCESS"},
		"EnvironmentClass": {aws.ToString(env.EnvironmentClass), "mw1.medium"},
		"AccessMode":       {string(env.WebserverAccessMode), "PRIVATE_ONLY"},
		"Tag":              {env.Tags["team"], "data"},
		// core.dag_concurrency became core.max_active_tasks_per_dag in 2.2.
		"Renamed option": {env.AirflowConfigurationOptions["core.max_active_tasks_per_dag"], "8"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", what, c[0], c[1])
		}
	}
	if aws.ToInt32(env.Schedulers) != 2 || aws.ToInt32(env.MinWorkers) != 1 || aws.ToInt32(env.MaxWorkers) != 4 ||
		aws.ToInt32(env.MinWebservers) != 2 || aws.ToInt32(env.MaxWebservers) != 2 || env.CreatedAt == nil {
		t.Errorf("defaults: %+v", env)
	}
	if spec := p.runner.envs["etl"].spec; spec.WorkerConcurrency != 10 || spec.Bucket != "my-dags" || spec.AirflowConfigurationOptions["aws_mwaa.token_secret"] == "" {
		t.Errorf("spec given to the runner: %+v", spec)
	}
	// The runner reads each component's logging under its component name.
	if l := p.runner.envs["etl"].spec.Logging; len(l) != 5 || l[envspec.Scheduler] != (envspec.ModuleLogging{Enabled: true, LogLevel: "WARNING"}) {
		t.Errorf("logging given to the runner: %+v", l)
	}
	for _, c := range []string{envspec.DAGProcessing, envspec.Scheduler, envspec.WebServer, envspec.Worker, envspec.Task} {
		if _, ok := p.runner.envs["etl"].spec.Logging[c]; !ok {
			t.Errorf("no logging for %s given to the runner: %+v", c, p.runner.envs["etl"].spec.Logging)
		}
	}

	// Paging.
	p.create(createInput("alpha"))
	p.create(createInput("zulu"))
	var names []string
	var token *string
	pages := 0
	for {
		out, err := p.admin.ListEnvironments(ctx, &awsmwaa.ListEnvironmentsInput{MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		names = append(names, out.Environments...)
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	if strings.Join(names, ",") != "alpha,etl,zulu" || pages != 2 {
		t.Fatalf("ListEnvironments pages: %v in %d pages", names, pages)
	}

	// Update: applied, then a failing update keeps the working configuration.
	if _, err := p.admin.UpdateEnvironment(ctx, &awsmwaa.UpdateEnvironmentInput{Name: aws.String("etl"), MaxWorkers: aws.Int32(6),
		WorkerReplacementStrategy: types.WorkerReplacementStrategyGraceful}); err != nil {
		t.Fatal(err)
	}
	p.svc.Wait()
	env = p.get("etl")
	if env.Status != types.EnvironmentStatusAvailable || aws.ToInt32(env.MaxWorkers) != 6 ||
		env.LastUpdate.WorkerReplacementStrategy != types.WorkerReplacementStrategyGraceful {
		t.Fatalf("after update: %s MaxWorkers %d %+v", env.Status, aws.ToInt32(env.MaxWorkers), env.LastUpdate)
	}
	if _, err := p.admin.UpdateEnvironment(ctx, &awsmwaa.UpdateEnvironmentInput{Name: aws.String("etl"), MaxWorkers: aws.Int32(8),
		AirflowConfigurationOptions: map[string]string{"core.default_timezone": "Mars/Base"}}); err != nil {
		t.Fatal(err)
	}
	p.svc.Wait()
	env = p.get("etl")
	if env.Status != types.EnvironmentStatusUpdateFailed || aws.ToInt32(env.MaxWorkers) != 6 ||
		env.AirflowConfigurationOptions["core.default_timezone"] != "utc" || env.LastUpdate.Error == nil ||
		!strings.Contains(aws.ToString(env.LastUpdate.Error.ErrorMessage), "Mars/Base") {
		t.Fatalf("after a failed update: %s MaxWorkers %d options %v %+v", env.Status, aws.ToInt32(env.MaxWorkers),
			env.AirflowConfigurationOptions, env.LastUpdate)
	}

	// Tags.
	arn := aws.ToString(env.Arn)
	if _, err := p.admin.TagResource(ctx, &awsmwaa.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "prod", "cost": "42"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.admin.UntagResource(ctx, &awsmwaa.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team", "cost"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := p.admin.ListTagsForResource(ctx, &awsmwaa.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || tags.Tags["env"] != "prod" {
		t.Fatalf("tags = %v", tags.Tags)
	}
	_, err = p.admin.ListTagsForResource(ctx, &awsmwaa.ListTagsForResourceInput{ResourceArn: aws.String(strings.Replace(arn, "/etl", "/nope", 1))})
	apiError(t, err, "ResourceNotFoundException")

	// CLI token: run commands on the environment's /aws_mwaa/cli.
	cliTok, err := p.admin.CreateCliToken(ctx, &awsmwaa.CreateCliTokenInput{Name: aws.String("etl")})
	if err != nil {
		t.Fatal(err)
	}
	_, setErr := runCLI(t, aws.ToString(cliTok.WebServerHostname), aws.ToString(cliTok.CliToken), `variables set greeting "hello world"`)
	stdout, _ := runCLI(t, aws.ToString(cliTok.WebServerHostname), aws.ToString(cliTok.CliToken), "variables get greeting")
	if strings.TrimSpace(stdout) != "hello world" {
		t.Fatalf("variables get through /aws_mwaa/cli: stdout %q (variables set said %q)", stdout, setErr)
	}

	// Web login token: a UI session with the policy's role.
	webTok, err := p.admin.CreateWebLoginToken(ctx, &awsmwaa.CreateWebLoginTokenInput{Name: aws.String("etl")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(webTok.IamIdentity) != "user/admin" || aws.ToString(webTok.AirflowIdentity) != "user/admin" {
		t.Fatalf("identities: %s %s", aws.ToString(webTok.IamIdentity), aws.ToString(webTok.AirflowIdentity))
	}
	if roles := loginRoles(t, aws.ToString(webTok.WebServerHostname), aws.ToString(webTok.WebToken)); roles != "Admin" {
		t.Fatalf("roles of the web session = %s, want Admin", roles)
	}

	// InvokeRestApi.
	inv, err := p.admin.InvokeRestApi(ctx, &awsmwaa.InvokeRestApiInput{Name: aws.String("etl"), Method: types.RestApiMethodGet,
		Path: aws.String("/variables/greeting")})
	if err != nil {
		var se *types.RestApiServerException
		if errors.As(err, &se) {
			var detail any
			_ = se.RestApiResponse.UnmarshalSmithyDocument(&detail)
			t.Fatalf("InvokeRestApi GET: %d %v", aws.ToInt32(se.RestApiStatusCode), detail)
		}
		t.Fatal(err)
	}
	var variable map[string]any
	if err := inv.RestApiResponse.UnmarshalSmithyDocument(&variable); err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(inv.RestApiStatusCode) != 200 || variable["value"] != "hello world" {
		t.Fatalf("InvokeRestApi GET: %d %v", aws.ToInt32(inv.RestApiStatusCode), variable)
	}
	inv, err = p.admin.InvokeRestApi(ctx, &awsmwaa.InvokeRestApiInput{Name: aws.String("etl"), Method: types.RestApiMethodPost,
		Path: aws.String("/variables"), Body: document.NewLazyDocument(map[string]any{"key": "k2", "value": "v2"})})
	if err != nil || aws.ToInt32(inv.RestApiStatusCode) != 200 {
		t.Fatalf("InvokeRestApi POST: %v", err)
	}
	_, err = p.admin.InvokeRestApi(ctx, &awsmwaa.InvokeRestApiInput{Name: aws.String("etl"), Method: types.RestApiMethodGet,
		Path: aws.String("/variables/missing")})
	var ce *types.RestApiClientException
	if !errors.As(err, &ce) || aws.ToInt32(ce.RestApiStatusCode) != 404 {
		t.Fatalf("InvokeRestApi of a missing variable: %v", err)
	}
	_, err = p.admin.InvokeRestApi(ctx, &awsmwaa.InvokeRestApiInput{Name: aws.String("etl"), Method: types.RestApiMethodGet,
		Path: aws.String("/dags"), QueryParameters: document.NewLazyDocument(map[string]any{"limit": 1, "only_active": true})})
	if err != nil {
		t.Fatalf("InvokeRestApi with query parameters: %v", err)
	}

	// Delete.
	if _, err := p.admin.DeleteEnvironment(ctx, &awsmwaa.DeleteEnvironmentInput{Name: aws.String("etl")}); err != nil {
		t.Fatal(err)
	}
	p.svc.Wait()
	_, err = p.admin.GetEnvironment(ctx, &awsmwaa.GetEnvironmentInput{Name: aws.String("etl")})
	apiError(t, err, "ResourceNotFoundException")
	if _, ok := p.runner.Status("etl"); ok {
		t.Fatal("the runner still runs the deleted environment")
	}
}

// runCLI posts a command line to /aws_mwaa/cli as MWAA's docs do.
func runCLI(t *testing.T, host, token, command string) (string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+host+"/aws_mwaa/cli", strings.NewReader(command))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Stdout, Stderr string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/aws_mwaa/cli %q: %s %v", command, resp.Status, err)
	}
	stdout, _ := base64.StdEncoding.DecodeString(out.Stdout)
	stderr, _ := base64.StdEncoding.DecodeString(out.Stderr)
	return string(stdout), string(stderr)
}

// loginRoles logs in with a web token at /aws_mwaa/login and returns the
// roles the session's user has, read through the REST API with the
// session cookie.
func loginRoles(t *testing.T, host, token string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm("http://"+host+"/aws_mwaa/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || len(resp.Cookies()) == 0 {
		t.Fatalf("/aws_mwaa/login: %s", resp.Status)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/api/v1/users/user%2Fadmin", nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var u struct {
		Roles []struct{ Name string } `json:"roles"`
	}
	if err := json.Unmarshal(body, &u); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET user: %s %s", resp.Status, body)
	}
	var names []string
	for _, r := range u.Roles {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

func apiErrorAs[T error](err error, target *T) bool { return errors.As(err, target) }

// loginRolesOf is loginRoles for another user.
func loginRolesOf(t *testing.T, host, token, user string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm("http://"+host+"/aws_mwaa/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/api/v1/users/"+user, nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var u struct {
		Roles []struct{ Name string } `json:"roles"`
	}
	_ = json.Unmarshal(body, &u)
	var names []string
	for _, r := range u.Roles {
		names = append(names, r.Name)
	}
	if len(names) == 0 {
		return resp.Status + " " + string(body)
	}
	return strings.Join(names, ",")
}
