package app

import (
	"context"
	"io"

	"github.com/windsock/windsock/internal/callback"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/email"
	"github.com/windsock/windsock/internal/taskrun"
)

// sendEmail sends an email callback's message through the environment's
// SMTP connection, with EmailOperator itself, so a callback's email and a
// task's are sent, authenticated and secured alike.
func (e *Environment) sendEmail(ctx context.Context, m callback.EmailMessage) error {
	args := map[string]any{"to": m.To, "subject": m.Subject, "html_content": m.Message}
	if m.ConnID != "" {
		args["conn_id"] = m.ConnID
	}
	tc := &operator.Context{Args: args, Log: io.Discard, Now: e.Clock,
		Connections: taskrun.ConnectionSource(e.Connections, nil)}
	_, err := email.New().Execute(ctx, tc)
	return err
}
