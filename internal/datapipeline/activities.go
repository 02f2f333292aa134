package datapipeline

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// activity sets t's operator and arguments from activity n.
func (c *converter) activity(n *node, t *task) {
	sc := scope{obj: n}
	switch n.Type {
	case "ShellCommandActivity":
		c.shell(n, t, sc)
	case "SqlActivity":
		c.sqlActivity(n, t)
	case "CopyActivity":
		c.copyActivity(n, t)
	case "EmrActivity", "HiveActivity", "HiveCopyActivity", "PigActivity", "HadoopActivity":
		c.emrActivity(n, t)
	case "RedshiftCopyActivity":
		c.redshiftCopy(n, t)
	default:
		c.placeholder(t, n.Type+" has no Windsock equivalent")
	}
	for _, f := range []string{"stdout", "stderr"} {
		if n.has(f) {
			c.problem(Warning, n.ID, f, "%s goes to the task's log, not to %s", f, n.str(f))
		}
	}
}

// shell maps ShellCommandActivity: bash, or the Data Pipeline shell
// operator when it needs S3 (a scriptUri, or staging).
func (c *converter) shell(n *node, t *task, sc scope) {
	stage := strings.EqualFold(n.str("stage"), "true")
	var cmd string
	if n.has("command") {
		cmd = c.field(n, "command")
		if len(n.values("scriptArgument")) > 0 {
			cmd = c.setArgs(n, sc) + cmd
		}
	}
	var inputs, outputs []string
	if stage {
		inputs = c.stagingPaths(n, "input", false)
		outputs = c.stagingPaths(n, "output", true)
	}
	if !n.has("scriptUri") && len(inputs) == 0 && len(outputs) == 0 {
		t.operator = "bash"
		t.arg("bash_command", cmd)
		return
	}
	t.operator = "datapipeline_shell"
	if n.has("scriptUri") {
		t.arg("script_uri", c.field(n, "scriptUri"))
		if args := c.list(n, "scriptArgument"); len(args) > 0 {
			t.arg("script_args", toAny(args))
		}
	} else {
		t.arg("bash_command", cmd)
	}
	if len(inputs) > 0 {
		t.arg("input_staging", toAny(inputs))
	}
	if len(outputs) > 0 {
		t.arg("output_staging", toAny(outputs))
	}
	t.comments = append(t.comments, "stage: S3 inputs are downloaded to ${INPUTn_STAGING_DIR} before the command and ${OUTPUTn_STAGING_DIR} uploaded after it, with connection aws_default.")
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// stagingPaths are the S3 locations of n's input or output data nodes,
// in order (INPUT1, INPUT2, ...).
func (c *converter) stagingPaths(n *node, f string, output bool) []string {
	var out []string
	for _, id := range n.refs(f) {
		dn := c.nodes[id]
		if dn == nil {
			continue
		}
		if dn.Type != "S3DataNode" {
			c.problem(Unsupported, n.ID, f, "staging %s from %s %s: only S3 data nodes can be staged", f, dn.Type, id)
			continue
		}
		path := "directoryPath"
		if !dn.has(path) {
			if output {
				c.problem(Invalid, id, "directoryPath", "an output staged by %s needs directoryPath", n.ID)
				continue
			}
			path = "filePath"
		}
		s, _ := c.tr.template(dn.str(path), scope{obj: dn}, site{id, path})
		out = append(out, s)
	}
	return out
}

// sqlActivity maps SqlActivity to the SQL operator over a connection made
// from its database object.
func (c *converter) sqlActivity(n *node, t *task) {
	if n.has("scriptUri") {
		c.placeholder(t, "SqlActivity with scriptUri: put the script in the script field")
		return
	}
	db := c.nodes[first(n.refs("database"))]
	connID, ok := c.connection(db)
	if !ok {
		t.comments = append(t.comments, "NEEDS A HUMAN: the connection "+connID+" is not a database Windsock runs natively; see the report")
	}
	t.operator = "sql_execute"
	t.arg("conn_id", connID)
	t.arg("sql", c.field(n, "script"))
	if args := c.list(n, "scriptArgument"); len(args) > 0 {
		t.arg("parameters", toAny(args))
	}
	if n.has("queue") {
		c.problem(Warning, n.ID, "queue", "Redshift query group %q is not carried over", n.str("queue"))
	}
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

// connection records the connection a database object becomes and
// returns its id; ok is false when it is not PostgreSQL or SQLite.
func (c *converter) connection(db *node) (string, bool) {
	if db == nil {
		return "", false
	}
	id := "dp_" + strings.ToLower(taskIDChars.ReplaceAllString(db.ID, "_"))
	if cr, done := c.conns[id]; done {
		return id, cr.Native
	}
	// Connection settings are fixed when the connection is made, so
	// only parameters can fill them in.
	static := func(f string) string {
		v, err := c.staticValue(db.str(f))
		if err != nil {
			return db.str(f)
		}
		return v
	}
	cr := &ConnectionReport{ConnID: id, ObjectID: db.ID, Login: static("username"), Schema: static("databaseName")}
	switch db.Type {
	case "JdbcDatabase":
		parseJDBC(static("connectionString"), cr)
	case "RdsDatabase":
		cr.ConnType = "FILL_IN"
		cr.Host = static("rdsInstanceId") + ".FILL_IN.rds.amazonaws.com"
	case "RedshiftDatabase":
		cr.ConnType = "redshift"
		if cs := static("connectionString"); cs != "" {
			parseJDBC(cs, cr)
			cr.ConnType = "redshift"
		} else {
			cr.Host = static("clusterId") + ".FILL_IN.redshift.amazonaws.com"
			cr.Port = 5439
		}
	}
	cr.Native = cr.ConnType == "postgres" || cr.ConnType == "sqlite"
	c.conns[id] = cr
	if !cr.Native {
		c.problem(Unsupported, db.ID, "type", "%s becomes connection %s of type %s, which Windsock's SQL operator cannot run (PostgreSQL and SQLite only): fill it in and replace the task", db.Type, id, cr.ConnType)
	} else {
		c.problem(Warning, db.ID, "*password", "create connection %s (%s) with the database password: passwords are not written to the DAG", id, cr.ConnType)
	}
	return id, cr.Native
}

// parseJDBC reads jdbc:postgresql://host:port/db, jdbc:sqlite:path and
// the MySQL/Oracle forms into a connection.
func parseJDBC(s string, cr *ConnectionReport) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "jdbc:")
	if !ok {
		cr.ConnType = "FILL_IN"
		return
	}
	scheme, body, _ := strings.Cut(rest, ":")
	switch strings.ToLower(scheme) {
	case "postgresql", "postgres":
		cr.ConnType = "postgres"
	case "sqlite":
		cr.ConnType = "sqlite"
		cr.Host = body
		return
	case "mysql", "mariadb":
		cr.ConnType = "mysql"
	case "oracle":
		cr.ConnType = "oracle"
		cr.Host = body
		return
	case "redshift":
		cr.ConnType = "redshift"
	default:
		cr.ConnType = strings.ToLower(scheme)
	}
	u, err := url.Parse(scheme + ":" + body)
	if err != nil {
		return
	}
	cr.Host = u.Hostname()
	if p, err := strconv.Atoi(u.Port()); err == nil {
		cr.Port = p
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		cr.Schema = db
	}
}

// copyActivity maps CopyActivity: one S3 object to another natively;
// anything else is reported.
func (c *converter) copyActivity(n *node, t *task) {
	in, out := c.nodes[first(n.refs("input"))], c.nodes[first(n.refs("output"))]
	if in != nil && out != nil && in.Type == "S3DataNode" && out.Type == "S3DataNode" && in.has("filePath") && out.has("filePath") {
		t.operator = "s3_copy_object"
		src, _ := c.tr.template(in.str("filePath"), scope{obj: in}, site{in.ID, "filePath"})
		dst, _ := c.tr.template(out.str("filePath"), scope{obj: out}, site{out.ID, "filePath"})
		t.arg("source_bucket_key", src)
		t.arg("dest_bucket_key", dst)
		return
	}
	if in != nil && out != nil && (in.Type == "SqlDataNode" || in.Type == "MySqlDataNode") && out.Type == "S3DataNode" {
		if c.sqlToS3(in, out, t) {
			return
		}
	}
	if in != nil && out != nil && in.Type == "S3DataNode" && (out.Type == "SqlDataNode" || out.Type == "MySqlDataNode") {
		if c.s3ToSQL(in, out, t) {
			return
		}
	}
	what := "?"
	if in != nil && out != nil {
		what = in.Type + " -> " + out.Type
	}
	c.placeholder(t, fmt.Sprintf("CopyActivity %s: only copies between S3 nodes, and between S3 and a PostgreSQL or SQLite table, run natively", what))
}

// sqlToS3 maps a copy from a SQL table to S3 to SqlToS3Operator (CSV)
// when the database runs natively; false leaves it unsupported.
func (c *converter) sqlToS3(in, out *node, t *task) bool {
	connID, native := c.connection(c.nodes[first(in.refs("database"))])
	if !native {
		return false
	}
	query := "select * from " + in.str("table")
	if in.has("selectQuery") {
		query, _ = c.tr.template(in.str("selectQuery"), scope{obj: in}, site{in.ID, "selectQuery"})
	}
	key := ""
	if out.has("filePath") {
		key, _ = c.tr.template(out.str("filePath"), scope{obj: out}, site{out.ID, "filePath"})
	} else {
		dir, _ := c.tr.template(out.str("directoryPath"), scope{obj: out}, site{out.ID, "directoryPath"})
		key = strings.TrimSuffix(dir, "/") + "/" + in.str("table") + ".csv"
	}
	t.operator = "sql_to_s3"
	t.arg("sql_conn_id", connID)
	t.arg("query", query)
	t.arg("s3_key", key)
	t.arg("replace", true)
	t.comments = append(t.comments, "CopyActivity from "+in.ID+" to "+out.ID+": the rows as CSV with a header line")
	return true
}

// s3ToSQL maps a copy from S3 into a SQL table to S3ToSqlOperator with
// Windsock's native CSV reading (Data Pipeline's CSV has no header line;
// TSV and a Custom columnSeparator set the delimiter) when the database
// runs natively; false leaves it unsupported.
func (c *converter) s3ToSQL(in, out *node, t *task) bool {
	connID, native := c.connection(c.nodes[first(out.refs("database"))])
	if !native {
		return false
	}
	var key string
	if in.has("filePath") {
		key, _ = c.tr.template(in.str("filePath"), scope{obj: in}, site{in.ID, "filePath"})
	} else {
		dir, _ := c.tr.template(in.str("directoryPath"), scope{obj: in}, site{in.ID, "directoryPath"})
		key = strings.TrimSuffix(dir, "/") + "/"
	}
	t.operator = "s3_to_sql"
	t.arg("s3_key", key)
	t.arg("sql_conn_id", connID)
	if out.has("insertQuery") {
		q, _ := c.tr.template(out.str("insertQuery"), scope{obj: out}, site{out.ID, "insertQuery"})
		t.arg("insert_query", q)
	} else {
		t.arg("table", out.str("table"))
	}
	if f := c.nodes[first(in.refs("dataFormat"))]; f != nil {
		switch f.Type {
		case "TSV":
			t.arg("delimiter", "\t")
		case "Custom":
			if sep := f.str("columnSeparator"); sep != "" {
				t.arg("delimiter", sep)
			}
		case "CSV":
		default:
			c.problem(Warning, f.ID, "type", "%s data is read as CSV", f.Type)
		}
	}
	t.comments = append(t.comments, "CopyActivity from "+in.ID+" to "+out.ID+": each CSV row (no header line) inserted into the table")
	return true
}

// emrActivity maps the EMR family to the Amazon provider's
// EmrAddStepsOperator with the steps it would submit. Windsock has no EMR
// support, so the task fails saying so.
func (c *converter) emrActivity(n *node, t *task) {
	var steps []any
	switch n.Type {
	case "EmrActivity":
		for _, s := range c.list(n, "step") {
			parts := strings.Split(s, ",")
			args := make([]any, 0, len(parts))
			for _, a := range parts[1:] {
				args = append(args, a)
			}
			steps = append(steps, map[string]any{"Name": n.ID, "ActionOnFailure": "CONTINUE",
				"HadoopJarStep": map[string]any{"Jar": parts[0], "Args": args}})
		}
	case "HadoopActivity":
		args := []any{}
		if n.has("mainClass") {
			args = append(args, c.field(n, "mainClass"))
		}
		for _, a := range c.list(n, "argument") {
			args = append(args, a)
		}
		steps = append(steps, map[string]any{"Name": n.ID, "ActionOnFailure": "CONTINUE",
			"HadoopJarStep": map[string]any{"Jar": c.field(n, "jarUri"), "Args": args}})
	default:
		script := "hiveScript"
		runner := []any{"hive-script", "--run-hive-script", "--args", "-f"}
		switch {
		case n.Type == "PigActivity":
			script = "script"
			runner = []any{"pig-script", "--run-pig-script", "--args", "-f"}
		case n.Type == "HiveCopyActivity":
			script = "filterSql"
		}
		src := "inline " + script
		if n.has("scriptUri") {
			src = c.field(n, "scriptUri")
		}
		steps = append(steps, map[string]any{"Name": n.ID, "ActionOnFailure": "CONTINUE",
			"HadoopJarStep": map[string]any{"Jar": "command-runner.jar", "Args": append(runner, src)}})
		if n.has(script) {
			t.comments = append(t.comments, script+" (kept for reference): "+oneLine(n.str(script)))
		}
	}
	t.operator = "emr_add_steps"
	cluster := first(n.refs("runsOn"))
	t.arg("job_flow_id", "FILL_IN_"+cluster)
	t.arg("steps", steps)
	t.comments = append(t.comments, "NEEDS THE AMAZON PROVIDER: Windsock has no EMR support; this task fails saying so. EmrCluster "+cluster+" is described at the top of the file.")
	c.problem(Unsupported, n.ID, "type", "%s runs on Amazon EMR, which Windsock does not support: converted to EmrAddStepsOperator, which fails saying so", n.Type)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// redshiftCopy maps RedshiftCopyActivity to the provider's
// S3ToRedshiftOperator.
func (c *converter) redshiftCopy(n *node, t *task) {
	t.operator = "s3_to_redshift"
	in, out := c.nodes[first(n.refs("input"))], c.nodes[first(n.refs("output"))]
	if out != nil {
		table, _ := c.tr.template(out.str("tableName"), scope{obj: out}, site{out.ID, "tableName"})
		t.arg("table", table)
		if out.has("schemaName") {
			schema, _ := c.tr.template(out.str("schemaName"), scope{obj: out}, site{out.ID, "schemaName"})
			t.arg("schema", schema)
		}
		if db := c.nodes[first(out.refs("database"))]; db != nil {
			id, _ := c.connection(db)
			t.arg("redshift_conn_id", id)
		}
	}
	if in != nil && in.Type == "S3DataNode" {
		path := in.str("directoryPath")
		if path == "" {
			path = in.str("filePath")
		}
		s, _ := c.tr.template(path, scope{obj: in}, site{in.ID, "directoryPath"})
		t.arg("s3_key", s)
	}
	method := map[string]string{"OVERWRITE_EXISTING": "UPSERT", "TRUNCATE": "REPLACE", "APPEND": "APPEND", "KEEP_EXISTING": "APPEND"}[strings.ToUpper(n.str("insertMode"))]
	t.arg("method", method)
	if opts := c.list(n, "commandOptions"); len(opts) > 0 {
		t.arg("copy_options", toAny(opts))
	}
	t.comments = append(t.comments, "NEEDS THE AMAZON PROVIDER: Windsock has no Redshift support; this task fails saying so.")
	c.problem(Unsupported, n.ID, "type", "RedshiftCopyActivity needs Amazon Redshift, which Windsock does not support: converted to S3ToRedshiftOperator, which fails saying so")
}
