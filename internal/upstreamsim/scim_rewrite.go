package upstreamsim

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// bufferedResponse holds what the library answers, so the middleware can add what the library
// does not know (nextCursor, pagination, sort) before anything reaches the client.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse { return &bufferedResponse{header: http.Header{}} }

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// send writes the held answer to w, a 200 JSON object first edited by edit (nil: as it is). An
// answer that is no JSON object is sent as it is: the edits are additions to the library's own
// objects, and anything else is an error answer.
func (b *bufferedResponse) send(w http.ResponseWriter, edit func(members map[string]json.RawMessage)) {
	body := b.body.Bytes()
	var members map[string]json.RawMessage
	if edit != nil && b.status == http.StatusOK && json.Unmarshal(body, &members) == nil && members != nil {
		edit(members)
		if edited, err := json.Marshal(members); err == nil {
			body = edited
		}
	}
	for name, values := range b.header {
		w.Header()[name] = values
	}
	w.WriteHeader(max(b.status, http.StatusOK))
	_, _ = w.Write(body)
}

// setMember sets a member to value's JSON; the values are the simulator's own and always encode.
func setMember(members map[string]json.RawMessage, name string, value any) {
	encoded, err := json.Marshal(value)
	if err != nil {
		panic("upstreamsim: encode " + name + ": " + err.Error())
	}
	members[name] = encoded
}

// cursorAnswer edits a list answer paged by cursor: RFC 9865's nextCursor while users remain, and
// no startIndex, which means nothing for a cursor page.
func cursorAnswer(page *scimCursorPage) func(map[string]json.RawMessage) {
	return func(members map[string]json.RawMessage) {
		delete(members, "startIndex")
		if page.next != "" {
			setMember(members, "nextCursor", page.next)
		}
	}
}

// serviceProviderConfigAnswer adds what the simulator offers beyond the library: RFC 9865's
// pagination block and sort.supported.
func serviceProviderConfigAnswer(cursorPaging, sorting bool, pageCap int) func(map[string]json.RawMessage) {
	return func(members map[string]json.RawMessage) {
		setMember(members, "sort", map[string]bool{"supported": sorting})
		setMember(members, "pagination", map[string]any{
			"cursor":                  cursorPaging,
			"index":                   true,
			"defaultPaginationMethod": "index",
			"defaultPageSize":         pageCap,
			"maxPageSize":             pageCap,
			"cursorTimeout":           scimCursorTimeout,
		})
	}
}
