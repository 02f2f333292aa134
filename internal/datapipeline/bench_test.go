package datapipeline_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/datapipeline"
)

// bigDefinition is a definition of n objects: a schedule, a resource,
// and chains of S3 data nodes, preconditions and shell activities.
func bigDefinition(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"objects": [
{"id": "Default", "scheduleType": "cron", "failureAndRerunMode": "cascade", "schedule": {"ref": "S"}, "runsOn": {"ref": "R"}},
{"id": "S", "type": "Schedule", "period": "1 hour", "startDateTime": "2024-01-01T00:00:00"},
{"id": "R", "type": "Ec2Resource"}`)
	for i := 0; len(strings.Split(b.String(), `"id"`))-1 < n; i++ {
		fmt.Fprintf(&b, `,
{"id": "N%d", "type": "S3DataNode", "directoryPath": "s3://b/#{myPrefix}/%d/#{format(@scheduledStartTime, 'YYYY-MM-dd-HH')}", "precondition": {"ref": "P%d"}},
{"id": "P%d", "type": "S3PrefixNotEmpty", "s3Prefix": "#{node.directoryPath}"},
{"id": "A%d", "type": "ShellCommandActivity", "input": {"ref": "N%d"}, "command": "echo #{input.directoryPath} #{format(minusDays(@scheduledStartTime, 1), 'YYYY')}", "maximumRetries": "1"%s}`,
			i, i, i, i, i, i, dependsOn(i))
	}
	b.WriteString(`], "parameters": [{"id": "myPrefix", "type": "String", "default": "data"}]}`)
	return []byte(b.String())
}

func dependsOn(i int) string {
	if i == 0 {
		return ""
	}
	return fmt.Sprintf(`, "dependsOn": {"ref": "A%d"}`, i-1)
}

func BenchmarkConvert500(b *testing.B) {
	src := bigDefinition(500)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		def, err := datapipeline.Parse(src)
		if err != nil {
			b.Fatal(err)
		}
		res := datapipeline.Convert(def, datapipeline.Options{Source: "big.json", Now: time.Unix(0, 0)})
		if res.YAML == nil {
			b.Fatalf("not converted: %+v", res.Report.Problems)
		}
	}
}

// TestConvert500 checks the benchmark's definition converts completely
// (the time budget is BenchmarkConvert500's figure, not asserted here).
func TestConvert500(t *testing.T) {
	t.Parallel()
	def, err := datapipeline.Parse(bigDefinition(500))
	if err != nil {
		t.Fatal(err)
	}
	res := datapipeline.Convert(def, datapipeline.Options{Source: "big.json", Now: time.Unix(0, 0)})
	if res.Report.ExitCode() != 0 || len(res.Report.Tasks) < 300 {
		t.Errorf("exit %d, %d tasks; problems %+v", res.Report.ExitCode(), len(res.Report.Tasks), res.Report.Problems[:min(3, len(res.Report.Problems))])
	}
}
