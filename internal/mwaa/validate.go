package mwaa

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/envspec"
)

// Patterns and bounds of the MWAA model (botocore's service-2.json).
var (
	reEnvName      = regexp.MustCompile(`^[a-zA-Z][0-9a-zA-Z-_]*$`)
	reIamRoleArn   = regexp.MustCompile(`^arn:aws(-[a-z]+)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	reS3BucketArn  = regexp.MustCompile(`^arn:aws(-[a-z]+)?:s3:::[a-z0-9.\-]+$`)
	reEnvArn       = regexp.MustCompile(`^arn:aws(-[a-z]+)?:airflow:[a-z0-9\-]+:\d{12}:environment/\w+`)
	reAirflowVer   = regexp.MustCompile(`^[0-9a-z.]+$`)
	reConfigKey    = regexp.MustCompile(`^[a-z]+([a-z0-9._]*[a-z0-9_]+)?$`)
	reConfigValue  = regexp.MustCompile(`^[ -~]+$`)
	reSubnet       = regexp.MustCompile(`^subnet-[a-zA-Z0-9\-._]+$`)
	reSecGroup     = regexp.MustCompile(`^sg-[a-zA-Z0-9\-._]+$`)
	reTag          = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
	reMaintenance  = regexp.MustCompile(`(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):(00|30)`)
	reKmsKey       = regexp.MustCompile(`^(((arn:aws(-[a-z]+)?:kms:[a-z]{2}-[a-z]+-\d:\d+:)?key\/)?[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}|(arn:aws(-[a-z]+)?:kms:[a-z]{2}-[a-z]+-\d:\d+:)?alias/.+)$`)
	loggingLevels  = []string{"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}
	accessModes    = []string{"PRIVATE_ONLY", "PUBLIC_ONLY", "PUBLIC_AND_PRIVATE"}
	endpointModes  = []string{"CUSTOMER", "SERVICE"}
	replacements   = []string{"FORCED", "GRACEFUL"}
	restAPIMethods = []string{"GET", "PUT", "POST", "PATCH", "DELETE"}
)

// SupportedVersions are the Apache Airflow 2.x versions MWAA offers today,
// oldest first.
var SupportedVersions = []string{"2.4.3", "2.5.1", "2.6.3", "2.7.2", "2.8.1", "2.9.2", "2.10.1", "2.10.3", "2.11.0"}

// DefaultVersion is the AirflowVersion of an environment created without
// one: the 2.10 line Windsock implements.
const DefaultVersion = "2.10.3"

// Class is an environment class's size.
type Class struct {
	Name string
	// WorkerConcurrency is celery.worker_autoscale's default: the tasks a
	// worker runs at once.
	WorkerConcurrency int
	// Micro classes run one scheduler and one web server and do not
	// autoscale.
	Micro bool
}

// Classes are MWAA's environment classes (the user guide's table).
var Classes = []Class{
	{"mw1.micro", 3, true},
	{"mw1.small", 5, false},
	{"mw1.medium", 10, false},
	{"mw1.large", 20, false},
	{"mw1.xlarge", 40, false},
	{"mw1.2xlarge", 80, false},
}

// classNamed returns the class of a name.
func classNamed(name string) (Class, bool) {
	for _, c := range Classes {
		if c.Name == name {
			return c, true
		}
	}
	return Class{}, false
}

// Quotas MWAA applies by default.
const (
	maxWorkersQuota = 25
	maxSchedulers   = 5
	maxWebservers   = 5
)

// problems collects the model's constraint violations in the wording
// AWS's front end uses ("1 validation error detected: Value 'x' at 'name'
// failed to satisfy constraint: Member must ...").
type problems []string

func (p *problems) add(value any, member, constraint string) {
	v := "null"
	switch x := value.(type) {
	case nil:
	case string:
		v = "'" + x + "'"
	case int:
		v = "'" + strconv.Itoa(x) + "'"
	default:
		v = fmt.Sprintf("'%v'", x)
	}
	*p = append(*p, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", v, member, constraint))
}

func (p problems) err() error {
	switch len(p) {
	case 0:
		return nil
	case 1:
		return validation("1 validation error detected: " + p[0])
	}
	return validation(fmt.Sprintf("%d validation errors detected: %s", len(p), strings.Join(p, "; ")))
}

func (p *problems) required(present bool, member string) {
	if !present {
		p.add(nil, member, "Member must not be null")
	}
}

// str checks a string member's length and pattern.
func (p *problems) str(s *string, member string, lo, hi int, re *regexp.Regexp) {
	if s == nil {
		return
	}
	switch {
	case len(*s) < lo:
		p.add(*s, member, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	case hi > 0 && len(*s) > hi:
		p.add(*s, member, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	case re != nil && !re.MatchString(*s):
		p.add(*s, member, "Member must satisfy regular expression pattern: "+re.String())
	}
}

func (p *problems) intRange(n *int, member string, lo, hi int, hasLo, hasHi bool) {
	if n == nil {
		return
	}
	switch {
	case hasLo && *n < lo:
		p.add(*n, member, fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	case hasHi && *n > hi:
		p.add(*n, member, fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
}

func (p *problems) enum(s *string, member string, values []string) {
	if s == nil {
		return
	}
	for _, v := range values {
		if *s == v {
			return
		}
	}
	p.add(*s, member, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// checkName validates an environment name from the URI.
func checkName(name string) error {
	var p problems
	p.str(&name, "name", 1, 80, reEnvName)
	return p.err()
}

// checkInput validates a Create or Update body against the model. create
// says which required members and shapes apply.
func checkInput(name string, in *EnvironmentInput, create bool) error {
	var p problems
	p.str(&name, "name", 1, 80, reEnvName)
	if create {
		p.required(in.ExecutionRoleArn != nil, "executionRoleArn")
		p.required(in.SourceBucketArn != nil, "sourceBucketArn")
		p.required(in.DagS3Path != nil, "dagS3Path")
		p.required(in.NetworkConfiguration != nil, "networkConfiguration")
	}
	p.str(in.ExecutionRoleArn, "executionRoleArn", 1, 1224, reIamRoleArn)
	p.str(in.SourceBucketArn, "sourceBucketArn", 1, 1224, reS3BucketArn)
	for _, rp := range []struct {
		v      *string
		member string
	}{{in.DagS3Path, "dagS3Path"}, {in.PluginsS3Path, "pluginsS3Path"}, {in.RequirementsS3Path, "requirementsS3Path"},
		{in.StartupScriptS3Path, "startupScriptS3Path"}} {
		p.str(rp.v, rp.member, 1, 1024, nil)
	}
	for _, ov := range []struct {
		v      *string
		member string
	}{{in.PluginsS3ObjectVersion, "pluginsS3ObjectVersion"}, {in.RequirementsS3ObjectVersion, "requirementsS3ObjectVersion"},
		{in.StartupScriptS3ObjectVersion, "startupScriptS3ObjectVersion"}} {
		p.str(ov.v, ov.member, 1, 1024, nil)
	}
	if n := in.NetworkConfiguration; n != nil {
		if create {
			if len(n.SubnetIds) != 2 {
				p.add(fmt.Sprintf("%v", n.SubnetIds), "networkConfiguration.subnetIds",
					sizeConstraint(len(n.SubnetIds), 2, 2))
			}
		} else if n.SubnetIds != nil {
			// UpdateNetworkConfigurationInput has SecurityGroupIds only.
			p = append(p, "Value at 'networkConfiguration.subnetIds' failed to satisfy constraint: Subnets cannot be changed after an environment is created")
		}
		for i := range n.SubnetIds {
			p.str(&n.SubnetIds[i], fmt.Sprintf("networkConfiguration.subnetIds.%d.member", i+1), 1, 1024, reSubnet)
		}
		if (create && n.SecurityGroupIds != nil || !create) && (len(n.SecurityGroupIds) < 1 || len(n.SecurityGroupIds) > 5) {
			p.add(fmt.Sprintf("%v", n.SecurityGroupIds), "networkConfiguration.securityGroupIds",
				sizeConstraint(len(n.SecurityGroupIds), 1, 5))
		}
		for i := range n.SecurityGroupIds {
			p.str(&n.SecurityGroupIds[i], fmt.Sprintf("networkConfiguration.securityGroupIds.%d.member", i+1), 1, 1024, reSecGroup)
		}
	}
	checkOptions(&p, in.AirflowConfigurationOptions)
	p.str(in.EnvironmentClass, "environmentClass", 1, 1024, nil)
	p.intRange(in.MaxWorkers, "maxWorkers", 1, 0, true, false)
	p.intRange(in.MinWorkers, "minWorkers", 1, 0, true, false)
	p.intRange(in.Schedulers, "schedulers", 0, maxSchedulers, false, true)
	p.intRange(in.MinWebservers, "minWebservers", 1, 0, true, false)
	p.intRange(in.MaxWebservers, "maxWebservers", 1, 0, true, false)
	p.str(in.KmsKey, "kmsKey", 1, 1224, reKmsKey)
	p.str(in.AirflowVersion, "airflowVersion", 1, 32, reAirflowVer)
	if l := in.LoggingConfiguration; l != nil {
		for _, m := range l.modules() {
			if m.cfg == nil {
				continue
			}
			member := "loggingConfiguration." + lowerFirst(m.field)
			p.required(m.cfg.Enabled != nil, member+".enabled")
			if m.cfg.LogLevel == "" {
				p.required(false, member+".logLevel")
			} else {
				p.enum(&m.cfg.LogLevel, member+".logLevel", loggingLevels)
			}
		}
	}
	if w := in.WeeklyMaintenanceWindowStart; w != nil {
		p.str(w, "weeklyMaintenanceWindowStart", 1, 9, reMaintenance)
	}
	if create {
		checkTags(&p, in.Tags, "tags")
	}
	p.enum(in.WebserverAccessMode, "webserverAccessMode", accessModes)
	p.enum(in.EndpointManagement, "endpointManagement", endpointModes)
	p.enum(in.WorkerReplacementStrategy, "workerReplacementStrategy", replacements)
	return p.err()
}

func sizeConstraint(n, lo, hi int) string {
	if n < lo {
		return fmt.Sprintf("Member must have length greater than or equal to %d", lo)
	}
	return fmt.Sprintf("Member must have length less than or equal to %d", hi)
}

// checkOptions applies the model's ConfigKey and ConfigValue shapes.
func checkOptions(p *problems, opts map[string]string) {
	for _, k := range sortedKeys(opts) {
		v := opts[k]
		switch {
		case len(k) < 1 || len(k) > 64 || !reConfigKey.MatchString(k):
			*p = append(*p, fmt.Sprintf("Value at 'airflowConfigurationOptions' failed to satisfy constraint: "+
				"Map keys must satisfy constraint: [Member must have length less than or equal to 64, "+
				"Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: %s]", reConfigKey))
		case len(v) < 1 || len(v) > 65536 || !reConfigValue.MatchString(v):
			// The value is sensitive: AWS does not echo it.
			*p = append(*p, fmt.Sprintf("Value at 'airflowConfigurationOptions' failed to satisfy constraint: "+
				"Map value must satisfy constraint: [Member must have length less than or equal to 65536, "+
				"Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: %s]", reConfigValue))
		}
	}
}

// checkTags applies TagMap's shape.
func checkTags(p *problems, tags map[string]string, member string) {
	if tags == nil {
		return
	}
	if len(tags) < 1 || len(tags) > 50 {
		p.add(fmt.Sprintf("%v", tags), member, sizeConstraint(len(tags), 1, 50))
	}
	for _, k := range sortedKeys(tags) {
		v := tags[k]
		if len(k) < 1 || len(k) > 128 || !reTag.MatchString(k) {
			*p = append(*p, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Map keys must satisfy constraint: "+
				"[Member must have length less than or equal to 128, Member must have length greater than or equal to 1, "+
				"Member must satisfy regular expression pattern: %s]", member, reTag))
		}
		if len(v) < 1 || len(v) > 256 || !reTag.MatchString(v) {
			*p = append(*p, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Map value must satisfy constraint: "+
				"[Member must have length less than or equal to 256, Member must have length greater than or equal to 1, "+
				"Member must satisfy regular expression pattern: %s]", member, reTag))
		}
	}
}

// checkTagKeys applies TagKeyList's shape to UntagResource's tagKeys.
func checkTagKeys(keys []string) error {
	var p problems
	if len(keys) > 50 {
		p.add(fmt.Sprintf("%v", keys), "tagKeys", "Member must have length less than or equal to 50")
	}
	for i := range keys {
		p.str(&keys[i], fmt.Sprintf("tagKeys.%d.member", i+1), 1, 128, reTag)
	}
	return p.err()
}

// checkArn validates a ResourceArn of the tag operations.
func checkArn(arn string) error {
	var p problems
	p.str(&arn, "resourceArn", 1, 1224, reEnvArn)
	return p.err()
}

// checkSemantics applies MWAA's service-side rules to the environment an
// input would produce: version, class, worker and scheduler counts, the
// configuration options it refuses.
func checkSemantics(env *Environment) error {
	if !supportedVersion(env.AirflowVersion) {
		return validation(fmt.Sprintf("Invalid AirflowVersion: %s. Supported versions for Amazon MWAA are: %s.",
			env.AirflowVersion, strings.Join(SupportedVersions, ", ")))
	}
	class, ok := classNamed(env.EnvironmentClass)
	if !ok {
		names := make([]string, len(Classes))
		for i, c := range Classes {
			names[i] = c.Name
		}
		return validation(fmt.Sprintf("Invalid EnvironmentClass: %s. Valid values are %s.", env.EnvironmentClass, strings.Join(names, ", ")))
	}
	minW, maxW := *env.MinWorkers, *env.MaxWorkers
	switch {
	case maxW > maxWorkersQuota:
		return validation(fmt.Sprintf("MaxWorkers must be between 1 and %d.", maxWorkersQuota))
	case minW > maxW:
		return validation("MinWorkers must be less than or equal to MaxWorkers.")
	case class.Micro && (maxW != 1 || minW != 1):
		return validation("Environment class mw1.micro supports exactly 1 worker: MinWorkers and MaxWorkers must be 1.")
	}
	s := *env.Schedulers
	switch {
	case class.Micro && s != 1:
		return validation("Environment class mw1.micro supports exactly 1 scheduler.")
	case !class.Micro && (s < 2 || s > maxSchedulers):
		return validation(fmt.Sprintf("Schedulers must be between 2 and %d for Apache Airflow v2 environments.", maxSchedulers))
	}
	minS, maxS := *env.MinWebservers, *env.MaxWebservers
	switch {
	case class.Micro && (minS != 1 || maxS != 1):
		return validation("Environment class mw1.micro supports exactly 1 web server: MinWebservers and MaxWebservers must be 1.")
	case !class.Micro && (minS < 2 || maxS > maxWebservers):
		return validation(fmt.Sprintf("MinWebservers and MaxWebservers must be between 2 and %d.", maxWebservers))
	case minS > maxS:
		return validation("MinWebservers must be less than or equal to MaxWebservers.")
	}
	var bad []string
	for _, k := range sortedKeys(env.AirflowConfigurationOptions) {
		section, option, ok := strings.Cut(k, ".")
		switch {
		case !ok || section == "" || option == "":
			return validation(fmt.Sprintf("Invalid Airflow configuration option %q: options are given as section.option, e.g. core.default_timezone.", k))
		case envspec.RunnerOwned(k) || strings.EqualFold(section, "aws_mwaa"):
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		return validation("The following Airflow configuration options cannot be overridden: " + strings.Join(bad, ", ") + ".")
	}
	if v, ok := env.AirflowConfigurationOptions["celery.worker_autoscale"]; ok {
		if _, err := parseAutoscale(v); err != nil {
			return validation("Invalid value for celery.worker_autoscale: " + err.Error())
		}
	}
	return nil
}

// parseAutoscale reads celery.worker_autoscale ("max,min") and returns max.
func parseAutoscale(v string) (int, error) {
	hi, lo, ok := strings.Cut(v, ",")
	maxN, err1 := strconv.Atoi(strings.TrimSpace(hi))
	minN, err2 := strconv.Atoi(strings.TrimSpace(lo))
	if !ok || err1 != nil || err2 != nil || maxN < 1 || minN < 0 || minN > maxN {
		return 0, fmt.Errorf("%q must be MAX,MIN with 0 <= MIN <= MAX and MAX >= 1", v)
	}
	return maxN, nil
}

func supportedVersion(v string) bool {
	for _, s := range SupportedVersions {
		if s == v {
			return true
		}
	}
	return false
}

// checkInvoke validates InvokeRestApi's body.
func checkInvoke(in *InvokeRestAPIInput) error {
	var p problems
	p.required(in.Path != nil, "path")
	p.required(in.Method != nil, "method")
	p.str(in.Path, "path", 1, 64, nil)
	p.enum(in.Method, "method", restAPIMethods)
	return p.err()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
