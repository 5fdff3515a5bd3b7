package pg

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// testSession is a session with no client: what it sends is discarded.
func testSession(s *Server) *session {
	ss := &session{
		srv: s, be: pgproto3.NewBackend(strings.NewReader(""), io.Discard),
		user: "u", database: "d", loc: time.UTC,
		settings: map[string]string{}, defaults: map[string]string{},
		stmts: map[string]*prepared{}, portals: map[string]*portal{},
		cancel: make(chan struct{}, 1),
	}
	for name, st := range settings {
		ss.settings[name], ss.defaults[name] = st.def, st.def
	}
	return ss
}

var fuzzSeeds = []string{
	"SELECT 1",
	"select $1::int8, $2, 'x' as y, -5, 1.5e3, null, true, now(), version(), current_setting('TimeZone')",
	"INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at",
	"insert into public.campaign_rows values ('a', 1, 'e', 's', '2026-01-01', now()), ('b', 2, 'e', 's', now(), now()) on conflict do nothing returning *",
	"SELECT idempotency_key, status FROM campaign_rows WHERE idempotency_key = $1",
	"SELECT count(*) FROM campaign_rows",
	"select * from campaign_rows order by idempotency_key desc limit 2",
	"DELETE FROM campaign_rows WHERE 'a' = idempotency_key RETURNING email",
	"BEGIN ISOLATION LEVEL SERIALIZABLE; COMMIT; ROLLBACK; START TRANSACTION; END",
	"SET statement_timeout TO '5s'; SHOW statement_timeout; RESET ALL; SET TIME ZONE 'UTC'",
	"CREATE TABLE IF NOT EXISTS campaign_rows (idempotency_key text PRIMARY KEY, n numeric(10,2))",
	"DEALLOCATE ALL; DISCARD ALL",
	"SELECT CAST($1 AS timestamp with time zone), $2::double precision, int8 '5'",
	"/* c */ select 1 -- x\n; ; select E'a\\'b', $$dollar$$",
	"SELECT * FROM pg_tables; UPDATE x SET y = 1",
	"select 'unterminated",
	"select ((1))::int2, -2147483648, 99999999999999999999",
}

// FuzzStatement feeds arbitrary SQL to the recognizer and the executor:
// whatever comes in, the answer is a result or an error, never a panic.
func FuzzStatement(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	srv := &Server{store: newStore()}
	srv.rules.Store(&ruleSet{maxConns: -1})
	f.Fuzz(func(t *testing.T, sql string) {
		ss := testSession(srv)
		raws, perr := split(sql)
		if perr != nil {
			return
		}
		for _, raw := range raws {
			st, perr := parse(raw)
			if perr != nil {
				if perr.code == "" || perr.msg == "" {
					t.Fatalf("empty error for %q", raw.sql)
				}
				continue
			}
			ptypes := resolveParams(st, nil)
			fields := describe(st, ptypes)
			params := make([]value, len(ptypes))
			for i, typ := range ptypes {
				params[i] = nullOf(typ)
				if typ == oidText {
					params[i] = textValue("k")
				}
			}
			res, err := ss.exec(st, params, fields)
			if err != nil {
				ss.failStatement()
				continue
			}
			for _, r := range res.rows {
				if res.fields != nil && len(r) != len(res.fields) {
					t.Fatalf("%q: row of %d values for %d fields", raw.sql, len(r), len(res.fields))
				}
				for i, v := range r {
					if !v.null && res.fields != nil && v.typ != res.fields[i].typ {
						t.Fatalf("%q: column %d is %d, described %d", raw.sql, i, v.typ, res.fields[i].typ)
					}
					_ = v.encode(nil, 0, time.UTC)
					_ = v.encode(nil, 1, time.UTC)
				}
			}
		}
		if ss.tx != nil {
			_ = ss.commit()
		}
	})
}

func TestNumericBinary(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "12.5", "-0.0001", "10000", "123456789.123456789", "0.00", "99990000", "1.50", "NaN"} {
		got, ok := decodeNumericBinary(appendNumericBinary(nil, s))
		if !ok || got != s {
			t.Errorf("%s round-trips to %q (%v)", s, got, ok)
		}
	}
	for in, want := range map[string]string{"+1.5": "1.5", "007": "7", "1.5e2": "150", "1.25e-1": "0.125", ".5": "0.5", "-0": "0"} {
		if got, ok := canonicalNumeric(in); !ok || got != want {
			t.Errorf("canonicalNumeric(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestTimestampText(t *testing.T) {
	for in, want := range map[string]string{
		"2026-01-02 03:04:05.123456Z":    "2026-01-02 03:04:05.123456+00",
		"2026-01-02 03:04:05+02":         "2026-01-02 01:04:05+00",
		"2026-01-02T03:04:05.5-03:30":    "2026-01-02 06:34:05.5+00",
		"2026-01-02":                     "2026-01-02 00:00:00+00",
		"2026-01-02 03:04:05.1234567+00": "2026-01-02 03:04:05.123457+00",
	} {
		v, err := parseText(in, oidTimestamptz)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := string(v.appendText(nil, time.UTC)); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip(err)
	}
	v, _ := parseText("2026-01-02 00:00:00Z", oidTimestamptz)
	if got := string(v.appendText(nil, kolkata)); got != "2026-01-02 05:30:00+05:30" {
		t.Errorf("in Asia/Kolkata: %s", got)
	}
}
