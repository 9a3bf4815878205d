package upstreamsim

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// scimCursorAnswer is one cursor-paged answer: its users' ids, totalResults, startIndex (0 when
// absent) and nextCursor ("" when absent).
type scimCursorAnswer struct {
	ids                      []string
	totalResults, startIndex int
	nextCursor               string
	object                   map[string]any
}

func getSCIMCursorPage(t *testing.T, client *http.Client, s *Server, query string) scimCursorAnswer {
	t.Helper()
	got := get(t, client, s, scimUsers+"?"+query, testToken)
	wantStatus(t, got, http.StatusOK)
	answer := scimCursorAnswer{object: decodeObject(t, got.body)}
	if schemas, _ := answer.object["schemas"].([]any); len(schemas) != 1 || schemas[0] != scimListURN {
		t.Fatalf("schemas = %v, want the ListResponse URN; body %s", answer.object["schemas"], got.body)
	}
	answer.totalResults = jsonInt(t, answer.object["totalResults"])
	if startIndex, present := answer.object["startIndex"]; present {
		answer.startIndex = jsonInt(t, startIndex)
	}
	resources, _ := answer.object["Resources"].([]any)
	for _, item := range resources {
		resource, _ := item.(map[string]any)
		id, _ := resource["id"].(string)
		answer.ids = append(answer.ids, id)
	}
	if next, present := answer.object["nextCursor"]; present {
		cursor, ok := next.(string)
		if !ok || cursor == "" {
			t.Fatalf("nextCursor = %#v, want a non-empty string or none", next)
		}
		answer.nextCursor = cursor
	}
	return answer
}

// walkSCIMCursor follows nextCursor from the first page, calling between after each page but the
// last, and returns every id served, in order, and the number of pages.
func walkSCIMCursor(t *testing.T, client *http.Client, s *Server, query string, between func(page int)) ([]string, int) {
	t.Helper()
	var ids []string
	cursor := ""
	for page := 1; ; page++ {
		if page > 50 {
			t.Fatal("more than 50 pages")
		}
		answer := getSCIMCursorPage(t, client, s, query+"&cursor="+url.QueryEscape(cursor))
		if _, present := answer.object["startIndex"]; present {
			t.Errorf("page %d has a startIndex, which means nothing for a cursor page", page)
		}
		ids = append(ids, answer.ids...)
		if answer.nextCursor == "" {
			return ids, page
		}
		cursor = answer.nextCursor
		if between != nil {
			between(page)
		}
	}
}

func TestSCIMCursorPagingServesEveryUserOnceInIDOrder(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	seedSCIMUsers(s, 7)
	s.SetSCIMPageCap(3)
	s.SetSCIMCursorPaging(true)

	ids, pages := walkSCIMCursor(t, client, s, "count=100", nil)
	want := []string{"id-01", "id-02", "id-03", "id-04", "id-05", "id-06", "id-07"}
	if !slices.Equal(ids, want) || pages != 3 {
		t.Errorf("%d pages of %v, want 3 pages of %v", pages, ids, want)
	}

	// A filter pages too, and totalResults counts what it selects.
	active, _ := walkSCIMCursor(t, client, s, "count=2&filter="+url.QueryEscape("active eq true"), nil)
	if !slices.Equal(active, []string{"id-01", "id-03", "id-05", "id-07"}) {
		t.Errorf("active users %v", active)
	}
	if first := getSCIMCursorPage(t, client, s, "count=2&cursor=&filter="+url.QueryEscape("active eq true")); first.totalResults != 4 {
		t.Errorf("totalResults %d, want the 4 active users", first.totalResults)
	}
}

func TestSCIMCursorPagingAcrossChangesBetweenPages(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	seedSCIMUsers(s, 6)
	s.SetSCIMPageCap(2)
	s.SetSCIMCursorPaging(true)

	ids, _ := walkSCIMCursor(t, client, s, "count=2", func(page int) {
		if page == 1 {
			s.PutSCIMUser(SCIMUser{ID: "id-00", UserName: "before@example.com"}) // behind the cursor: never seen
			s.PutSCIMUser(SCIMUser{ID: "id-99", UserName: "after@example.com"})  // ahead of it: seen
			s.DeleteUser(ProviderSCIM, "id-02")                                  // the cursor's own user
		}
	})
	want := []string{"id-01", "id-02", "id-03", "id-04", "id-05", "id-06", "id-99"}
	if !slices.Equal(ids, want) {
		t.Errorf("served %v, want %v: each user at most once, a cursor whose user left still good", ids, want)
	}
}

func TestSCIMCursorsTheServerNeverHandedOut(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	seedSCIMUsers(s, 3)
	s.SetSCIMCursorPaging(true)
	for _, cursor := range []string{"not base64!", "%%%"} {
		got := get(t, client, s, scimUsers+"?cursor="+url.QueryEscape(cursor), testToken)
		wantSCIMError(t, got, http.StatusBadRequest, "invalidCursor")
	}
}

func TestSCIMCursorIsIgnoredWhenCursorPagingIsOff(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	seedSCIMUsers(s, 5)
	s.SetSCIMPageCap(2)
	answer := getSCIMCursorPage(t, client, s, "cursor=&count=2")
	if answer.nextCursor != "" || answer.startIndex != 1 || !slices.Equal(answer.ids, []string{"id-01", "id-02"}) {
		t.Errorf("answer %v (nextCursor %q, startIndex %d), want the first index page without a nextCursor",
			answer.ids, answer.nextCursor, answer.startIndex)
	}

	// Turned on and off again, it is ignored again.
	s.SetSCIMCursorPaging(true)
	s.SetSCIMCursorPaging(false)
	if answer := getSCIMCursorPage(t, client, s, "cursor=&count=2"); answer.nextCursor != "" {
		t.Errorf("nextCursor %q after cursor paging was turned off", answer.nextCursor)
	}
}

func TestSCIMServiceProviderConfigAnnouncesPagingAndSorting(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	s.SetSCIMPageCap(25)
	config := func() map[string]any {
		got := get(t, client, s, SCIMBasePath+"/ServiceProviderConfig", testToken)
		wantStatus(t, got, http.StatusOK)
		return decodeObject(t, got.body)
	}

	plain := config()
	if _, present := plain["pagination"]; present {
		t.Errorf("pagination announced with cursor paging off: %v", plain["pagination"])
	}
	if sort, _ := plain["sort"].(map[string]any); sort["supported"] != false {
		t.Errorf("sort = %v, want unsupported", plain["sort"])
	}

	s.SetSCIMCursorPaging(true)
	got := config()
	pagination, _ := got["pagination"].(map[string]any)
	if pagination["cursor"] != true || pagination["index"] != true || jsonInt(t, pagination["maxPageSize"]) != 25 ||
		pagination["defaultPaginationMethod"] != "index" || jsonInt(t, pagination["cursorTimeout"]) != 3600 {
		t.Errorf("pagination = %v, want cursor and index paging, pages of at most 25", pagination)
	}
	if filter, _ := got["filter"].(map[string]any); filter["supported"] != true || jsonInt(t, filter["maxResults"]) != 25 {
		t.Errorf("filter = %v: the library's members must stay", filter)
	}
	if sort, _ := got["sort"].(map[string]any); sort["supported"] != false {
		t.Errorf("sort = %v, want unsupported until SetSCIMSorting", got["sort"])
	}

	s.SetSCIMSorting(true)
	if sort, _ := config()["sort"].(map[string]any); sort["supported"] != true {
		t.Errorf("sort = %v, want supported", sort)
	}
}

func TestSCIMShuffledPagesUnlessSortedByID(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	const users = 40
	seedSCIMUsers(s, users)
	s.SetSCIMQuirks(SCIMQuirks{ShuffledPages: true})
	idsOf := func(query string) []string {
		list := decodeSCIMList(t, get(t, client, s, scimUsers+"?"+query, testToken))
		ids := make([]string, 0, len(list.resources))
		for _, resource := range list.resources {
			id, _ := resource["id"].(string)
			ids = append(ids, id)
		}
		return ids
	}
	sorted := func(ids []string) bool { return slices.IsSorted(ids) && len(ids) == users }

	// 40 users come back in id order by chance once in 40! requests.
	if ids := idsOf("count=100"); sorted(ids) {
		t.Errorf("ShuffledPages answered in id order: %v", ids)
	}
	if ids := idsOf("count=100&sortBy=id"); sorted(ids) {
		t.Error("sortBy=id honoured without SetSCIMSorting")
	}
	s.SetSCIMSorting(true)
	if ids := idsOf("count=100&sortBy=id"); !sorted(ids) {
		t.Errorf("sortBy=id with sorting on: %v", ids)
	}
	if ids := idsOf("count=100&sortBy=ID"); !sorted(ids) {
		t.Error("sortBy=ID: attribute names ignore case")
	}
	s.SetSCIMCursorPaging(true)
	if ids, _ := walkSCIMCursor(t, client, s, "count=7", nil); !sorted(ids) {
		t.Errorf("cursor pages under ShuffledPages: %v, want id order", ids)
	}
}

func TestSCIMIndexPagingIsNoSnapshot(t *testing.T) {
	s := startServer(t)
	client := trustingClient(t, s)
	seedSCIMUsers(s, 4)
	first := decodeSCIMList(t, get(t, client, s, scimUsers+"?startIndex=1&count=2", testToken))
	s.PutSCIMUser(SCIMUser{ID: "id-00", UserName: "new@example.com"}) // ahead of every page
	second := decodeSCIMList(t, get(t, client, s, scimUsers+"?startIndex=3&count=2", testToken))
	names := append(scimUserNames(first), scimUserNames(second)...)
	if want := []string{"user-1@example.com", "user-2@example.com", "user-2@example.com", "user-3@example.com"}; !slices.Equal(names, want) ||
		second.totalResults != 5 {
		t.Errorf("pages %v of %d, want user-2 on both pages of 5", names, second.totalResults)
	}
}
