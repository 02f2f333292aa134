"""DbApiHook: the DB-API 2 base of SQL hooks (run, get_records, get_first,
insert_rows), and fetch handlers."""
from contextlib import closing

from airflow.exceptions import AirflowException
from airflow.hooks.base import BaseHook


def fetch_all_handler(cursor):
    if cursor.description is not None:
        return cursor.fetchall()
    return None


def fetch_one_handler(cursor):
    if cursor.description is not None:
        return cursor.fetchone()
    return None


def return_single_query_results(sql, return_last, split_statements):
    return isinstance(sql, str) and (return_last or not split_statements)


def split_sql_string(sql):
    """Split a script on semicolons outside quotes."""
    out, buf, quote = [], [], None
    for ch in sql:
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in ("'", '"'):
            quote = ch
        if ch == ";":
            stmt = "".join(buf).strip()
            if stmt:
                out.append(stmt)
            buf = []
            continue
        buf.append(ch)
    stmt = "".join(buf).strip()
    if stmt:
        out.append(stmt)
    return out


class DbApiHook(BaseHook):
    conn_name_attr = "conn_id"
    default_conn_name = "default_conn_id"
    supports_autocommit = False
    placeholder = "%s"
    connector = None

    def __init__(self, *args, schema=None, log_sql=True, **kwargs):
        super().__init__()
        if not self.conn_name_attr:
            raise AirflowException("conn_name_attr is not defined")
        if len(args) == 1:
            setattr(self, self.conn_name_attr, args[0])
        elif self.conn_name_attr not in kwargs:
            setattr(self, self.conn_name_attr, self.default_conn_name)
        else:
            setattr(self, self.conn_name_attr, kwargs[self.conn_name_attr])
        self.__schema = schema
        self.log_sql = log_sql
        self.descriptions = []
        self._connection = None

    @property
    def connection(self):
        if self._connection is None:
            self._connection = self.get_connection(getattr(self, self.conn_name_attr))
        return self._connection

    def get_conn(self):
        raise NotImplementedError("%s does not implement get_conn" % type(self).__name__)

    def get_uri(self):
        return self.connection.get_uri()

    def get_records(self, sql, parameters=None):
        return self.run(sql=sql, parameters=parameters, handler=fetch_all_handler)

    def get_first(self, sql, parameters=None):
        return self.run(sql=sql, parameters=parameters, handler=fetch_one_handler)

    def get_pandas_df(self, sql, parameters=None, **kwargs):
        import pandas as pd

        with closing(self.get_conn()) as conn:
            return pd.read_sql(sql, con=conn, params=parameters, **kwargs)

    def get_df(self, sql, parameters=None, **kwargs):
        return self.get_pandas_df(sql, parameters, **kwargs)

    def set_autocommit(self, conn, autocommit):
        if hasattr(conn, "autocommit") and not callable(conn.autocommit):
            conn.autocommit = autocommit

    def run(self, sql, autocommit=False, parameters=None, handler=None, split_statements=False, return_last=True):
        single = return_single_query_results(sql, return_last, split_statements)
        if isinstance(sql, str):
            sql_list = split_sql_string(sql) if split_statements else [sql]
        else:
            sql_list = list(sql)
        if not sql_list:
            raise ValueError("List of SQL statements is empty")
        results = []
        with closing(self.get_conn()) as conn:
            if self.supports_autocommit:
                self.set_autocommit(conn, autocommit)
            with closing(conn.cursor()) as cur:
                for stmt in sql_list:
                    if self.log_sql:
                        print("Running statement: %s, parameters: %s" % (stmt, parameters))
                    if parameters:
                        cur.execute(stmt, parameters)
                    else:
                        cur.execute(stmt)
                    if handler is not None:
                        results.append(handler(cur))
                    self.descriptions.append(cur.description)
            if not autocommit or not self.supports_autocommit:
                conn.commit()
        if handler is None:
            return None
        if single:
            return results[-1]
        return results

    def insert_rows(self, table, rows, target_fields=None, commit_every=1000, replace=False, **kwargs):
        rows = list(rows)
        if not rows:
            return
        n = len(rows[0])
        cols = "(%s)" % ", ".join(target_fields) if target_fields else ""
        verb = "REPLACE INTO" if replace else "INSERT INTO"
        stmt = "%s %s %s VALUES (%s)" % (verb, table, cols, ", ".join([self.placeholder] * n))
        with closing(self.get_conn()) as conn:
            with closing(conn.cursor()) as cur:
                for i, row in enumerate(rows, 1):
                    cur.execute(stmt, tuple(row))
                    if commit_every and i % commit_every == 0:
                        conn.commit()
            conn.commit()

    def test_connection(self):
        try:
            self.get_first("select 1")
            return True, "Connection successfully tested"
        except Exception as e:
            return False, str(e)


def __getattr__(name):
    from airflow._providers import placeholder

    if name.startswith("_"):
        raise AttributeError(name)
    return placeholder(__name__, name)
