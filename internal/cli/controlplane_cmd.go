package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/mwaa"
	"github.com/windsock/windsock/internal/osenv"
)

// controlPlaneHome is where the control plane keeps its state and keys:
// --home, else $WINDSOCK_CONTROLPLANE_HOME, else controlplane/ inside
// WINDSOCK_HOME.
func (r *runner) controlPlaneHome(flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	if v, _ := osenv.Get(r.io.Environ, "WINDSOCK_CONTROLPLANE_HOME"); v != "" {
		return filepath.Abs(v)
	}
	home, err := config.Home(r.io.Environ)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "controlplane"), nil
}

func (r *runner) controlPlaneCommand() *cobra.Command {
	var home, host, region, account string
	var port int
	cmd := &cobra.Command{
		Use:   "controlplane",
		Short: "Serve the MWAA-compatible control plane API (environments, tokens) with SigV4 keys",
		Long: `Serve Amazon MWAA's API (2020-07-01) so that the AWS CLI, boto3 and the AWS SDKs
create and run Windsock environments with only the endpoint URL changed.
Requests are signed with keys from "windsock controlplane keys create".`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := r.controlPlaneHome(home)
			if err != nil {
				return err
			}
			return r.runControlPlane(cmd.Context(), dir, net.JoinHostPort(host, strconv.Itoa(port)), region, account)
		},
	}
	cmd.PersistentFlags().StringVar(&home, "home", "", "control plane home (default: $WINDSOCK_CONTROLPLANE_HOME or $WINDSOCK_HOME/controlplane)")
	cmd.Flags().IntVar(&port, "port", 8090, "port to listen on")
	cmd.Flags().StringVar(&host, "host", "127.0.0.1", "address to listen on")
	cmd.Flags().StringVar(&region, "region", mwaa.DefaultRegion, "region in the ARNs")
	cmd.Flags().StringVar(&account, "account", mwaa.DefaultAccount, "account id in the ARNs (12 digits)")
	cmd.AddCommand(r.controlPlaneKeysCommand(&home))
	return cmd
}

func (r *runner) runControlPlane(parent context.Context, home, addr, region, account string) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("create control plane home: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(r.io.Stderr, nil))
	cpMetrics := metrics.NewControlPlane()
	envRunner, err := r.environmentRunner(home, logger, cpMetrics)
	if err != nil {
		return err
	}
	// A runner that holds processes lets go of them on exit (without
	// stopping them), for the next control plane to adopt.
	if c, ok := envRunner.(interface{ Close() }); ok {
		defer c.Close()
	}
	svc, err := mwaa.New(mwaa.Config{Home: home, Region: region, Account: account, Runner: envRunner, Logger: logger, Metrics: cpMetrics})
	if err != nil {
		return err
	}
	ctx, stop := signalContext(parent)
	defer stop()
	if err := svc.Start(ctx); err != nil {
		return err
	}
	defer svc.Stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	// Requests end with the control plane: a follower of an
	// environment's logs does not hold the shutdown up.
	srv := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	logger.Info("control plane listening", "address", "http://"+ln.Addr().String(), "home", home)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (r *runner) controlPlaneKeysCommand(home *string) *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Manage the control plane's access keys"}
	store := func() (*mwaa.KeyStore, error) {
		dir, err := r.controlPlaneHome(*home)
		if err != nil {
			return nil, err
		}
		return mwaa.NewKeyStore(dir), nil
	}
	var name, policyFile, output string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an access key; its secret is printed once",
		Args:  args(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			if name == "" {
				return usageError{errors.New("the following arguments are required: --name")}
			}
			var policy []byte
			if policyFile != "" {
				data, err := os.ReadFile(policyFile)
				if err != nil {
					return fmt.Errorf("read policy: %w", err)
				}
				policy = data
			}
			ks, err := store()
			if err != nil {
				return err
			}
			id, secret, err := ks.Create(name, policy, r.clock())
			if err != nil {
				return err
			}
			if output == "json" {
				return json.NewEncoder(r.io.Stdout).Encode(map[string]string{"access_key_id": id, "secret_access_key": secret})
			}
			fmt.Fprintf(r.io.Stdout, "access_key_id      %s\nsecret_access_key  %s\n(the secret is not shown again)\n", id, secret)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "name of the key (its IAM user name)")
	create.Flags().StringVar(&policyFile, "policy", "", "IAM policy document (JSON file); none means full access")
	create.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	var listOutput string
	list := &cobra.Command{
		Use:   "list",
		Short: "List access keys (never their secrets)",
		Args:  args(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			ks, err := store()
			if err != nil {
				return err
			}
			all, err := ks.List()
			if err != nil {
				return err
			}
			if listOutput == "json" {
				type row struct {
					AccessKeyID string          `json:"access_key_id"`
					Name        string          `json:"name"`
					CreatedAt   time.Time       `json:"created_at"`
					Policy      json.RawMessage `json:"policy,omitempty"`
				}
				rows := []row{}
				for _, k := range all {
					rows = append(rows, row{k.AccessKeyID, k.Name, k.CreatedAt, k.Policy})
				}
				return json.NewEncoder(r.io.Stdout).Encode(rows)
			}
			tw := tabwriter.NewWriter(r.io.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tACCESS KEY ID\tCREATED\tPOLICY")
			for _, k := range all {
				policy := "full access"
				if len(k.Policy) > 0 {
					policy = "policy"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Name, k.AccessKeyID, k.CreatedAt.Format(time.RFC3339), policy)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVarP(&listOutput, "output", "o", "table", "output format: table or json")
	del := &cobra.Command{
		Use:   "delete KEY",
		Short: "Delete an access key (by access key id or name)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(_ *cobra.Command, a []string) error {
			ks, err := store()
			if err != nil {
				return err
			}
			if err := ks.Delete(a[0]); err != nil {
				return err
			}
			fmt.Fprintf(r.io.Stdout, "Deleted key %s\n", a[0])
			return nil
		},
	}
	keys.AddCommand(create, list, del)
	return keys
}
