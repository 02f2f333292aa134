package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmwaa "github.com/aws/aws-sdk-go-v2/service/mwaa"
	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/dagfile"
	"github.com/windsock/windsock/internal/datapipeline"
	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/mwaa"
	"github.com/windsock/windsock/internal/mwaaclient"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/osenv"
	"github.com/windsock/windsock/internal/windsock"
)

// Exit statuses of datapipeline convert and import, beside exitOK (0).
const (
	dpUnreadable  = 1 // not JSON even leniently, or not a definition
	dpInvalid     = 2 // Data Pipeline itself would reject the definition
	dpUnsupported = 3 // converted, with parts that fail saying why
)

// dpFlags are the options convert and import share.
type dpFlags struct {
	paramObjects, paramValues, dagID, output, alarmEmail string
	values                                               []string
}

func (f *dpFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.paramObjects, "parameter-objects", "", "a JSON file of parameter objects, replacing the definition's")
	cmd.Flags().StringVar(&f.paramValues, "parameter-values", "", "a JSON file of parameter values, replacing the definition's")
	cmd.Flags().StringArrayVar(&f.values, "values", nil, "a parameter value as ID=VALUE (repeat for more, or for the elements of an isArray parameter)")
	cmd.Flags().StringVar(&f.dagID, "dag-id", "", "the DAG id (default: from the file name)")
	cmd.Flags().StringVar(&f.alarmEmail, "alarm-email", "", "send SnsAlarm notifications to these addresses (comma separated) through the environment's email instead of SNS")
	cmd.Flags().StringVarP(&f.output, "output", "o", "plain", "report format: plain or json")
}

func (r *runner) datapipelineCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "datapipeline", Short: "Convert AWS Data Pipeline definitions into DAGs"}
	var f dpFlags
	var out string
	convert := &cobra.Command{
		Use:   "convert DEFINITION",
		Short: "Convert a pipeline definition (JSON) into a DAG file in --out",
		Long: `Convert an AWS Data Pipeline definition into a DAG file (dag-factory YAML) in --out,
and print what was converted. Exit status: 0 converted completely; 3 converted
with unsupported parts (their tasks fail saying why; the report names each);
2 the definition is invalid as Data Pipeline would reject it; 1 the file
cannot be read.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if out == "" {
				return usageError{errors.New("the following arguments are required: --out")}
			}
			return r.convertPipeline(a[0], folderWriter(out), f)
		},
	}
	f.register(convert)
	convert.Flags().StringVar(&out, "out", "", "the folder to write the DAG file into")

	var fi dpFlags
	var envName, cpHome string
	ef := &envFlags{}
	imp := &cobra.Command{
		Use:   "import DEFINITION",
		Short: "Convert a pipeline definition straight into the environment's DAG folder",
		Long: `Convert a pipeline definition straight into the DAG folder of this
environment, or with --environment NAME into the DAG folder of a control
plane's environment: its source bucket's DagS3Path, a folder under the
control plane's home (--controlplane-home, $WINDSOCK_CONTROLPLANE_HOME) when
its buckets are local folders.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if envName != "" {
				return r.importIntoBucket(cmd.Context(), a[0], envName, cpHome, ef, fi)
			}
			cfg, err := r.loadConfig()
			if err != nil {
				return err
			}
			return r.convertPipeline(a[0], folderWriter(cfg.Core.DagsFolder), fi)
		},
	}
	fi.register(imp)
	imp.Flags().StringVar(&envName, "environment", "", "a control plane's environment to import into (through its source bucket)")
	imp.Flags().StringVar(&cpHome, "controlplane-home", "", "the control plane's home, when its buckets are local folders (default: $WINDSOCK_CONTROLPLANE_HOME when set)")
	imp.Flags().StringVar(&ef.endpoint, "endpoint-url", "", "control plane URL (default: $WINDSOCK_CONTROLPLANE_URL, $AWS_ENDPOINT_URL_MWAA or "+mwaaclient.DefaultEndpoint+")")
	cmd.AddCommand(convert, imp)
	return cmd
}

// dagWriter stores a converted DAG file and says where it went.
type dagWriter func(ctx context.Context, name string, data []byte) (string, error)

// folderWriter writes DAG files into dir.
func folderWriter(dir string) dagWriter {
	return func(_ context.Context, name string, data []byte) (string, error) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("create %s: %w", dir, err)
		}
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			return "", fmt.Errorf("write DAG file: %w", err)
		}
		return file, nil
	}
}

// importIntoBucket converts into a control plane environment's DAG folder
// in its source bucket, a local bucket folder of the control plane's home
// (the control plane copies it into the environment within seconds).
func (r *runner) importIntoBucket(ctx context.Context, path, name, cpHome string, ef *envFlags, f dpFlags) error {
	c, err := ef.client(r)
	if err != nil {
		return err
	}
	out, err := c.GetEnvironment(ctx, &awsmwaa.GetEnvironmentInput{Name: aws.String(name)})
	if err != nil {
		return mwaaclient.Describe("GetEnvironment", err)
	}
	bucket := mwaa.BucketName(aws.ToString(out.Environment.SourceBucketArn))
	prefix := strings.Trim(aws.ToString(out.Environment.DagS3Path), "/")
	if bucket == "" || strings.ContainsAny(bucket, "/\\") || strings.Contains(prefix, "..") {
		return fmt.Errorf("environment %s: unusable source bucket %q and DAG path %q", name, bucket, prefix)
	}
	if cpHome == "" {
		cpHome, _ = osenv.Get(r.io.Environ, "WINDSOCK_CONTROLPLANE_HOME")
	}
	if cpHome == "" {
		return fmt.Errorf("environment %s: its DAG folder is s3://%s/%s in the control plane's bucket store; give --controlplane-home when its buckets are local folders, or convert with --out and copy the file into the bucket", name, bucket, prefix)
	}
	return r.convertPipeline(path, folderWriter(filepath.Join(envrunner.BucketFolder(cpHome, bucket), filepath.FromSlash(prefix))), f)
}

// convertPipeline converts one definition, stores the DAG file with write
// and prints the report; the exit status says how it went.
func (r *runner) convertPipeline(path string, write dagWriter, f dpFlags) error {
	if f.output != "plain" && f.output != "json" {
		return usageError{fmt.Errorf("argument -o/--output: invalid choice: '%s' (choose from 'plain', 'json')", f.output)}
	}
	if f.paramValues != "" && len(f.values) > 0 {
		return usageError{errors.New("argument --values: not allowed with argument --parameter-values")}
	}
	if f.dagID != "" {
		if err := windsock.CheckKey("--dag-id", f.dagID); err != nil {
			return usageError{err}
		}
	}
	opt := datapipeline.Options{DagID: f.dagID, Source: path, Now: r.clock(), AlarmEmail: f.alarmEmail}
	def, err := readDefinition(path)
	if err == nil {
		err = f.parameters(&opt)
	}
	if err != nil {
		fmt.Fprintf(r.io.Stderr, "Error: %v\n", err)
		return silentExit{dpUnreadable}
	}
	res := datapipeline.Convert(def, opt)
	var file string
	if res.YAML != nil {
		if err := checkDAGFile(res.YAML); err != nil {
			return fmt.Errorf("convert %s: the DAG file does not load, a converter bug: %w", path, err)
		}
		if file, err = write(context.Background(), res.Report.DagID+".yaml", res.YAML); err != nil {
			return err
		}
	}
	if err := printDPReport(r.io.Stdout, f.output, res.Report, file); err != nil {
		return err
	}
	if code := res.Report.ExitCode(); code != 0 {
		return silentExit{code}
	}
	return nil
}

func readDefinition(path string) (*datapipeline.Definition, error) {
	return readDPFile(path, datapipeline.Parse)
}

func readDPFile(path string, parse func([]byte) (*datapipeline.Definition, error)) (*datapipeline.Definition, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	def, err := parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: not a pipeline definition: %w", path, err)
	}
	return def, nil
}

// parameters reads --parameter-objects, --parameter-values and --values.
func (f dpFlags) parameters(opt *datapipeline.Options) error {
	if f.paramObjects != "" {
		d, err := readDPFile(f.paramObjects, datapipeline.ParseParts)
		if err != nil {
			return err
		}
		opt.Parameters = d.Parameters
		if opt.Parameters == nil {
			opt.Parameters = []*datapipeline.Parameter{}
		}
	}
	if f.paramValues != "" {
		d, err := readDPFile(f.paramValues, datapipeline.ParseParts)
		if err != nil {
			return err
		}
		opt.Values = d.Values
	}
	if len(f.values) > 0 {
		opt.Values = map[string][]string{}
		for _, kv := range f.values {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Errorf("--values %q: want ID=VALUE", kv)
			}
			opt.Values[k] = append(opt.Values[k], v)
		}
	}
	return nil
}

// checkDAGFile loads the DAG file with the DAG folder's parser: what the
// converter writes must load without an error.
func checkDAGFile(src []byte) error {
	pf := dagfile.ParseFile("converted.yaml", src, dagfile.NewDefaults(time.Now()), operator.Builtins())
	var msgs []string
	for _, e := range pf.Errors {
		msgs = append(msgs, e.Error())
	}
	if len(msgs) > 0 {
		return errors.New(strings.Join(msgs, "; "))
	}
	return nil
}

func printDPReport(w io.Writer, format string, rep *datapipeline.Report, file string) error {
	if format == "json" {
		out := struct {
			*datapipeline.Report
			DagFile  string `json:"dag_file,omitempty"`
			ExitCode int    `json:"exit_code"`
		}{rep, file, rep.ExitCode()}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: %s\n", orNone(rep.File), rep.Status)
	if file != "" {
		fmt.Fprintf(&b, "DAG %s written to %s\n", rep.DagID, file)
	}
	if rep.Schedule != "" {
		fmt.Fprintf(&b, "schedule: %s\n", rep.Schedule)
	}
	for _, t := range rep.Tasks {
		fmt.Fprintf(&b, "task %s <- %s %s (%s)\n", t.TaskID, t.Type, t.ObjectID, t.Operator)
	}
	for _, c := range rep.Connections {
		fmt.Fprintf(&b, "connection %s <- %s: conn_type %s host %s port %d schema %s login %s (set its password)\n",
			c.ConnID, c.ObjectID, c.ConnType, c.Host, c.Port, c.Schema, c.Login)
	}
	for _, v := range rep.Variables {
		fmt.Fprintf(&b, "variable %s: create it with the encrypted value\n", v)
	}
	for _, rp := range rep.Repairs {
		fmt.Fprintf(&b, "repaired %s\n", rp)
	}
	for _, p := range rep.Problems {
		where := p.ObjectID
		if p.Field != "" {
			where += "." + p.Field
		}
		fmt.Fprintf(&b, "%s %s: %s\n", p.Kind, where, p.Message)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(definition)"
	}
	return s
}
