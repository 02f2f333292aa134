"""send_email over SMTP, configured from [smtp] (AIRFLOW__SMTP__*) or an smtp connection."""
import os


def _as_list(v):
    if v is None:
        return []
    if isinstance(v, str):
        return [x.strip() for x in v.replace(";", ",").split(",") if x.strip()]
    return list(v)


def send_email(to, subject, html_content, files=None, dryrun=False, cc=None, bcc=None, mime_subtype="mixed",
               mime_charset="utf-8", conn_id=None, from_email=None, custom_headers=None, **kwargs):
    import smtplib
    from email.mime.application import MIMEApplication
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    from airflow.configuration import conf

    host = conf.get("smtp", "smtp_host", fallback="localhost")
    port = conf.getint("smtp", "smtp_port", fallback=25)
    user = conf.get("smtp", "smtp_user", fallback=None)
    password = conf.get("smtp", "smtp_password", fallback=None)
    starttls = conf.getboolean("smtp", "smtp_starttls", fallback=False)
    use_ssl = conf.getboolean("smtp", "smtp_ssl", fallback=False)
    if conn_id:
        try:
            from airflow.hooks.base import BaseHook

            c = BaseHook.get_connection(conn_id)
            host, port = c.host or host, c.port or port
            user, password = c.login or user, c.password or password
        except Exception:
            pass
    sender = from_email or conf.get("smtp", "smtp_mail_from", fallback="airflow@example.com")
    msg = MIMEMultipart(mime_subtype)
    msg["Subject"] = subject
    msg["From"] = sender
    recipients = _as_list(to)
    msg["To"] = ", ".join(recipients)
    if cc:
        msg["CC"] = ", ".join(_as_list(cc))
        recipients += _as_list(cc)
    if bcc:
        recipients += _as_list(bcc)
    for k, v in (custom_headers or {}).items():
        msg[k] = v
    msg.attach(MIMEText(html_content, "html", mime_charset))
    for fname in files or []:
        with open(fname, "rb") as f:
            part = MIMEApplication(f.read(), Name=os.path.basename(fname))
        part["Content-Disposition"] = 'attachment; filename="%s"' % os.path.basename(fname)
        msg.attach(part)
    if dryrun:
        return msg
    cls = smtplib.SMTP_SSL if use_ssl else smtplib.SMTP
    with cls(host, port, timeout=conf.getint("smtp", "smtp_timeout", fallback=30)) as s:
        if starttls and not use_ssl:
            s.starttls()
        if user and password:
            s.login(user, password)
        s.sendmail(sender, recipients, msg.as_string())
    return msg
