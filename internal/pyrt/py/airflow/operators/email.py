"""EmailOperator (Windsock sends it natively through the smtp settings)."""
from airflow.models.baseoperator import BaseOperator


class EmailOperator(BaseOperator):
    template_fields = ("to", "from_email", "subject", "html_content", "files")
    template_fields_renderers = {"html_content": "html"}
    template_ext = (".html",)
    ui_color = "#e6faf9"

    def __init__(self, *, to, subject, html_content, from_email=None, files=None, cc=None, bcc=None,
                 mime_subtype="mixed", mime_charset="utf-8", conn_id=None, custom_headers=None, **kwargs):
        super().__init__(**kwargs)
        self.to = to
        self.subject = subject
        self.html_content = html_content
        self.from_email = from_email
        self.files = files or []
        self.cc = cc
        self.bcc = bcc
        self.mime_subtype = mime_subtype
        self.mime_charset = mime_charset
        self.conn_id = conn_id
        self.custom_headers = custom_headers

    def execute(self, context):
        from airflow.utils.email import send_email

        send_email(self.to, self.subject, self.html_content, files=self.files, cc=self.cc, bcc=self.bcc,
                   mime_subtype=self.mime_subtype, mime_charset=self.mime_charset, conn_id=self.conn_id,
                   from_email=self.from_email, custom_headers=self.custom_headers)
