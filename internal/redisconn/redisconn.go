// Package redisconn reads REDIS_URL — one Redis, a Sentinel-watched primary, or a Cluster — into
// the one go-redis client that the queues (asynq, given the client itself), the shared rate
// limits, the queue metrics and the readiness check all use. Parsing it once, here, is what
// keeps them on the same servers with the same settings: no second parser that could read the
// same URL differently.
//
// The forms (see the README, Configuration):
//
//	redis://[[user]:password@]host:port[/db][?options]        one server (rediss:// for TLS)
//	unix://[[user]:password@]/path/redis.sock[?db=N]           one server on a socket
//	redis-socket://[:password@]/path/redis.sock[?db=N]         asynq's spelling of the same
//	redis-sentinel://[[user]:password@]host:port[,host:port…][/db]?master=NAME[&password=…][&options]
//	redis-cluster://[[user]:password@]host:port[,host:port…][?options]
//
// The Sentinel form is asynq's (asynq.ParseRedisURI): the user information authenticates to
// the Sentinels, as in asynq and go-redis; the primary's and replicas' own credentials, when
// they have any, are the username= and password= options. rediss-sentinel:// and
// rediss-cluster:// use TLS. Other options are go-redis's (dial_timeout=3s, pool_size=…; see
// redis.ParseURL, redis.ParseFailoverURL, redis.ParseClusterURL).
//
// Errors never repeat the URL: it may hold a password.
package redisconn

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Options is a parsed REDIS_URL: exactly one of its fields is set.
type Options struct {
	Single   *redis.Options
	Failover *redis.FailoverOptions
	Cluster  *redis.ClusterOptions
}

// Parse reads a REDIS_URL in one of the package's forms.
func Parse(raw string) (Options, error) {
	raw = strings.TrimSpace(raw)
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Options{}, errors.New("not a URL (example: redis://127.0.0.1:6379/0)")
	}
	switch scheme {
	case "redis", "rediss", "unix":
		return single(raw)
	case "redis-socket":
		return single("unix://" + rest)
	case "redis-sentinel", "rediss-sentinel":
		return sentinel(strings.TrimSuffix(scheme, "-sentinel"), rest)
	case "redis-cluster", "rediss-cluster":
		return cluster(strings.TrimSuffix(scheme, "-cluster"), rest)
	}
	return Options{}, fmt.Errorf("scheme %q is not one of redis, rediss, unix, redis-socket, redis-sentinel, rediss-sentinel, redis-cluster, rediss-cluster", scheme)
}

// NewClient returns the client for o: a plain client, a failover client that follows the
// Sentinels to the current primary, or a cluster client.
func (o Options) NewClient() redis.UniversalClient {
	switch {
	case o.Failover != nil:
		return redis.NewFailoverClient(o.Failover)
	case o.Cluster != nil:
		return redis.NewClusterClient(o.Cluster)
	default:
		return redis.NewClient(o.Single)
	}
}

// String describes where o connects, without credentials, for logs.
func (o Options) String() string {
	switch {
	case o.Failover != nil:
		return fmt.Sprintf("primary %q of Sentinels %s, db %d", o.Failover.MasterName, strings.Join(o.Failover.SentinelAddrs, ","), o.Failover.DB)
	case o.Cluster != nil:
		return "cluster " + strings.Join(o.Cluster.Addrs, ",")
	case o.Single != nil:
		return fmt.Sprintf("%s %s, db %d", o.Single.Network, o.Single.Addr, o.Single.DB)
	}
	return "none"
}

func single(raw string) (Options, error) {
	if _, err := parseURL(raw); err != nil {
		return Options{}, err
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return Options{}, err
	}
	return Options{Single: opt}, nil
}

func sentinel(scheme, rest string) (Options, error) {
	addrs, u, err := multiHost(scheme, rest, "26379")
	if err != nil {
		return Options{}, err
	}
	q := u.Query()
	// asynq's name for the option, and go-redis's.
	if m := q.Get("master"); m != "" {
		if n := q.Get("master_name"); n != "" && n != m {
			return Options{}, errors.New("master and master_name differ")
		}
		q.Set("master_name", m)
	}
	q.Del("master")
	if q.Get("master_name") == "" {
		return Options{}, errors.New("a redis-sentinel URL needs the primary's name: ?master=NAME (as in the Sentinels' `sentinel monitor NAME …`)")
	}
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	u.RawQuery = q.Encode()
	opt, err := redis.ParseFailoverURL(u.String())
	if err != nil {
		return Options{}, err
	}
	return Options{Failover: opt}, nil
}

func cluster(scheme, rest string) (Options, error) {
	addrs, u, err := multiHost(scheme, rest, "6379")
	if err != nil {
		return Options{}, err
	}
	if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
		return Options{}, errors.New("a Redis Cluster has only database 0: drop the URL's path")
	}
	u.Path = ""
	q := u.Query()
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	u.RawQuery = q.Encode()
	opt, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return Options{}, err
	}
	return Options{Cluster: opt}, nil
}

// multiHost splits rest ("[userinfo@]h1[:p1][,h2[:p2]…][/path][?query]") into its addresses
// (def the default port) and a go-redis URL of scheme on the first of them, with the same
// user information, path and query. The list is split by hand because net/url refuses a
// comma-separated list that holds an IPv6 address.
func multiHost(scheme, rest, def string) ([]string, *url.URL, error) {
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	var addrs []string
	for h := range strings.SplitSeq(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, nil, errors.New("an empty address in the URL's host list (example: redis-sentinel://10.0.0.1:26379,10.0.0.2:26379?master=mymaster)")
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), def
		}
		if host == "" || strings.ContainsAny(host, "[]") {
			return nil, nil, fmt.Errorf("%q is not host:port", h)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	u, err := parseURL(scheme + "://" + userinfo + addrs[0] + tail)
	if err != nil {
		return nil, nil, err
	}
	return addrs, u, nil
}

// parseURL is url.Parse without the URL, which may hold a password, in its error.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("not a URL: %v", ue.Err)
		}
		return nil, errors.New("not a URL")
	}
	return u, nil
}
