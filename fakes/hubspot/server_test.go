package hubspot_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	fake "github.com/breakerlab/breakerlab/fakes/hubspot"
)

func TestReset(t *testing.T) {
	h := newHarness(t, fake.Options{EnforceLimits: true})
	h.do(http.MethodPost, "/crm/v3/objects/contacts", contact("a@example.com", "A")).want(t, 201)
	h.do(http.MethodPost, "/crm/v3/objects/companies", map[string]any{"properties": map[string]any{"domain": "a.example"}}).want(t, 201)
	for i := 0; i < 98; i++ {
		list(h).want(t, 200)
	}
	list(h).want(t, 429)

	h.srv.Reset()

	r := list(h).want(t, 200)
	if len(r.results()) != 0 {
		t.Fatalf("objects survived Reset: %s", r.raw)
	}
	wantHeaders(t, r, map[string]string{"X-HubSpot-RateLimit-Remaining": "99", "X-HubSpot-RateLimit-Daily-Remaining": "249999"})
	if cid := r.header.Get("X-HubSpot-Correlation-Id"); cid != "00000000-0000-4000-8000-000000000001" {
		t.Fatalf("correlation counter not reset: %s", cid)
	}
	r = h.do(http.MethodPost, "/crm/v3/objects/contacts", contact("a@example.com", "A again")).want(t, 201)
	if r.str("id") != "1" {
		t.Fatalf("id counter not reset: %s", r.raw)
	}
	h.do(http.MethodGet, "/crm/v3/objects/companies/2", nil).wantError(t, 404, "OBJECT_NOT_FOUND")
}

// TestConcurrentWrites races creates, upserts and updates on overlapping emails and then
// checks the invariants the ledger relies on: one contact per email, and exactly one
// OnWrite per applied write.
func TestConcurrentWrites(t *testing.T) {
	h := newHarness(t, fake.Options{})
	const workers, perWorker, emails = 16, 25, 20
	var (
		mu      sync.Mutex
		applied = map[string]int{} // op -> count of applied writes seen by clients
		wg      sync.WaitGroup
		errs    = make(chan string, workers*perWorker)
	)
	count := func(op string, n int) {
		mu.Lock()
		applied[op] += n
		mu.Unlock()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				email := fmt.Sprintf("user%02d@example.com", (w*perWorker+i)%emails)
				bearer := "Bearer " + h.token
				switch i % 3 {
				case 0:
					r, err := h.try(http.MethodPost, "/crm/v3/objects/contacts", contact(strings.ToUpper(email), "x"), bearer)
					if err != nil {
						errs <- err.Error()
						continue
					}
					switch r.status {
					case 201:
						count("contacts.create", 1)
					case 409:
					default:
						errs <- fmt.Sprintf("create: %d %s", r.status, r.raw)
					}
				case 1:
					r, err := h.try(http.MethodPost, "/crm/v3/objects/contacts/batch/upsert", inputs(
						map[string]any{"idProperty": "email", "id": email, "properties": map[string]any{"lastname": fmt.Sprint(w)}},
					), bearer)
					if err != nil || r.status != 200 {
						errs <- fmt.Sprintf("upsert: %v %d %s", err, r.status, r.raw)
						continue
					}
					count("contacts.upsert", len(r.results()))
				case 2:
					r, err := h.try(http.MethodPatch, "/crm/v3/objects/contacts/"+email+"?idProperty=email", map[string]any{"properties": map[string]any{"jobtitle": "t"}}, bearer)
					if err != nil {
						errs <- err.Error()
						continue
					}
					switch r.status {
					case 200:
						count("contacts.update", 1)
					case 404:
					default:
						errs <- fmt.Sprintf("update: %d %s", r.status, r.raw)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}

	r := h.do(http.MethodGet, "/crm/v3/objects/contacts?limit=100", nil).want(t, 200)
	seen := map[string]bool{}
	for _, o := range r.results() {
		e := props(o)["email"].(string)
		if seen[e] {
			t.Fatalf("two contacts with email %s", e)
		}
		seen[e] = true
	}
	if len(seen) != emails {
		t.Fatalf("%d contacts, want %d", len(seen), emails)
	}
	reported := map[string]int{}
	for _, w := range h.log.all() {
		op, _, _ := strings.Cut(w, " ")
		reported[op]++
	}
	if fmt.Sprint(reported) != fmt.Sprint(applied) {
		t.Fatalf("OnWrite reported %v, clients saw %v applied", reported, applied)
	}
}

// BenchmarkServeHTTP measures the per-request cost of the calls a campaign makes most:
// a read by email and an upsert of the same contact.
func BenchmarkServeHTTP(b *testing.B) {
	srv := fake.New(fake.Options{OnWrite: func(op, key string) {}})
	for i := 0; i < 1000; i++ {
		serve(srv, "POST", "/crm/v3/objects/contacts", fmt.Sprintf(`{"properties":{"email":"u%d@example.com"}}`, i))
	}
	b.Run("get by email", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				serve(srv, "GET", fmt.Sprintf("/crm/v3/objects/contacts/u%d@example.com?idProperty=email", i%1000), "")
			}
		})
	})
	b.Run("upsert", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				serve(srv, "POST", "/crm/v3/objects/contacts/batch/upsert",
					fmt.Sprintf(`{"inputs":[{"idProperty":"email","id":"u%d@example.com","properties":{"n":"%d"}}]}`, i%1000, i))
			}
		})
	})
	b.Run("search by email", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				serve(srv, "POST", "/crm/v3/objects/contacts/search",
					fmt.Sprintf(`{"filterGroups":[{"filters":[{"propertyName":"email","operator":"EQ","value":"u%d@example.com"}]}]}`, i%1000))
			}
		})
	})
}
