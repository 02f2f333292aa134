package datapipeline

import "strings"

// kind groups object types by the role they play in a pipeline.
type kind int

const (
	kUnknown kind = iota
	kActivity
	kDataNode
	kPrecondition
	kDatabase
	kResource
	kAction
	kSchedule
	kMetadata // data formats and EMR/EBS configuration helpers
)

var typeKinds = map[string]kind{
	"ShellCommandActivity": kActivity, "SqlActivity": kActivity, "CopyActivity": kActivity,
	"EmrActivity": kActivity, "HiveActivity": kActivity, "HiveCopyActivity": kActivity,
	"PigActivity": kActivity, "HadoopActivity": kActivity, "RedshiftCopyActivity": kActivity,
	"S3DataNode": kDataNode, "SqlDataNode": kDataNode, "MySqlDataNode": kDataNode,
	"DynamoDBDataNode": kDataNode, "RedshiftDataNode": kDataNode,
	"S3KeyExists": kPrecondition, "S3PrefixNotEmpty": kPrecondition, "DynamoDBTableExists": kPrecondition,
	"DynamoDBDataExists": kPrecondition, "Exists": kPrecondition, "ShellCommandPrecondition": kPrecondition,
	"RdsSqlPrecondition": kPrecondition,
	"JdbcDatabase":       kDatabase, "RdsDatabase": kDatabase, "RedshiftDatabase": kDatabase,
	"Ec2Resource": kResource, "EmrCluster": kResource, "HttpProxy": kMetadata,
	"SnsAlarm": kAction, "Terminate": kAction,
	"Schedule": kSchedule,
	"CSV":      kMetadata, "TSV": kMetadata, "Custom": kMetadata, "RegEx": kMetadata,
	"DynamoDBDataFormat": kMetadata, "DynamoDBExportDataFormat": kMetadata,
	"ShellScriptConfig": kMetadata, "EmrConfiguration": kMetadata, "Property": kMetadata,
	"EbsConfiguration": kMetadata, "EbsBlockDeviceConfig": kMetadata, "VolumeSpecification": kMetadata,
}

// canonicalType returns the documented spelling of a type name, matched
// case-insensitively, and its kind.
func canonicalType(t string) (string, kind) {
	if k, ok := typeKinds[t]; ok {
		return t, k
	}
	for name, k := range typeKinds {
		if strings.EqualFold(name, t) {
			return name, k
		}
	}
	return t, kUnknown
}

// refKinds says what each reference field may point at.
var refKinds = map[string][]kind{
	"schedule":     {kSchedule},
	"runsOn":       {kResource},
	"input":        {kDataNode},
	"output":       {kDataNode},
	"precondition": {kPrecondition},
	"onFail":       {kAction},
	"onSuccess":    {kAction},
	"onLateAction": {kAction},
	"database":     {kDatabase},
	"dependsOn":    {kActivity, kDataNode, kPrecondition},
}

func kindName(k kind) string {
	return [...]string{"an unknown type", "an activity", "a data node", "a precondition", "a database",
		"a resource", "an action", "a Schedule", "a data format or configuration"}[k]
}
