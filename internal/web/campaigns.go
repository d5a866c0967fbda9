package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
)

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Ops.Campaigns(r.Context(), actorOf(r.Context()))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	s.render(w, r, http.StatusOK, "campaigns", "Campaigns", cs)
}

// newCampaignData is the form that creates a campaign: the campaign file's text, kept when
// it has problems so that they can be fixed in place.
type newCampaignData struct {
	Source string
}

func (s *Server) newCampaign(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "new", "New campaign", newCampaignData{})
}

// createCampaign creates a campaign from a campaign file, uploaded (field "file") or pasted
// (field "source"); a file with problems is shown again with each problem and its line.
func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 2*campaignfile.MaxSize+64<<10)
	if err := r.ParseMultipartForm(2 * campaignfile.MaxSize); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		s.renderError(w, r, status, "new", "New campaign", newCampaignData{}, "The form could not be read: "+errorMessage(err))
		return
	}
	data := newCampaignData{Source: r.FormValue("source")}
	name, src := "campaign.yaml", io.Reader(strings.NewReader(data.Source))
	uploaded := false
	if f, h, err := r.FormFile("file"); err == nil && h.Size > 0 {
		defer f.Close()
		name, src, uploaded = h.Filename, f, true
	}
	if !uploaded && strings.TrimSpace(data.Source) == "" {
		s.renderError(w, r, http.StatusBadRequest, "new", "New campaign", data,
			"Paste the campaign file into the box, or choose the file to upload.")
		return
	}
	c, err := s.Ops.CreateCampaign(r.Context(), actorOf(r.Context()), name, src)
	if err != nil {
		if fe, ok := errors.AsType[*campaignfile.Error](err); ok {
			s.renderError(w, r, s.httpStatus(r, err), "new", "New campaign", data,
				"The campaign file has problems. Fix them and try again:", strings.Split(fe.Error(), "\n")...)
			return
		}
		s.renderError(w, r, s.httpStatus(r, err), "new", "New campaign", data, errorMessage(err))
		return
	}
	http.Redirect(w, r, "/campaigns/"+c.ID+"?done=created", http.StatusSeeOther)
}

// done are the confirmations a redirect after an action asks for (?done=…): fixed texts, so
// that no link can make the console say something it did not do.
var done = map[string]string{
	"created":   "The campaign was created as a draft. Next: upload its customer list.",
	"approved":  "The campaign is approved. An operator can now start sending.",
	"approval":  "Your approval is recorded. The campaign needs another approver's before it can be sent.",
	"started":   "Sending has started.",
	"paused":    "Sending is paused: no new notice leaves until it is resumed.",
	"resumed":   "Sending has resumed.",
	"cancelled": "The campaign is cancelled: notices not sent yet will never be sent.",
	"purged":    "The customers' personal data is deleted. The counts, the delivery record and the hashed proof of each address are kept.",
}

// campaignData is the campaign page.
type campaignData struct {
	C        *breach.Campaign
	Imports  []*breach.Import
	Tracking *trackingData
	// Lint is every finding of the campaign's notices, while it is a draft: errors block
	// approval.
	Lint       []notice.Finding
	LintErrors int
	Operator   bool
	Approver   bool
	// Locales and Jurisdictions fill the preview form.
	Jurisdictions []string
	// TestSends are the results of a test send just made.
	TestSends []breach.TestSend
}

// ApprovalProgress says how far a draft's approval has come (breach.Campaign.ApprovalProgress).
func (d *campaignData) ApprovalProgress() string { return d.C.ApprovalProgress() }

func (s *Server) showCampaign(w http.ResponseWriter, r *http.Request) {
	s.campaignPage(w, r, http.StatusOK, done[r.URL.Query().Get("done")], "", nil)
}

// campaignPage renders the campaign page, with a confirmation or an error from an action.
func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request, status int, confirm, errMsg string, sends []breach.TestSend) {
	ctx := r.Context()
	a := actorOf(ctx)
	sum, err := s.Ops.Summary(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	c := sum.Campaign
	tr, err := s.trackingOf(r, c)
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	d := &campaignData{C: c, Imports: sum.Imports, Tracking: tr, Operator: a.Can(breach.RoleOperator), Approver: a.Can(breach.RoleApprover),
		Jurisdictions: breach.KnownJurisdictions, TestSends: sends}
	if c.State == breach.CampaignDraft {
		if _, d.Lint, err = s.Ops.Lint(ctx, a, c.ID); err != nil {
			s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
			return
		}
		for _, f := range d.Lint {
			if f.Severity == "error" {
				d.LintErrors++
			}
		}
	}
	p := &page{Title: c.Name, Data: d, Notice: confirm, Error: errMsg}
	if tr.Live {
		p.Refresh = 5
	}
	s.renderPage(w, r, status, "campaign", p)
}

// actionFailed shows the campaign page again with what went wrong.
func (s *Server) actionFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.campaignPage(w, r, s.httpStatus(r, err), "", errorMessage(err), nil)
}

// approve gives the signed-in user's approval (operation.Service.Approve: lint, the two-person
// rule, the audit row of an approval or a refusal) of the list version the page showed them
// (its form's list_version): a list imported since the page was drawn is not approved unseen.
func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10) // the form is one small field
	c, err := s.Ops.Approve(r.Context(), actorOf(r.Context()), r.PathValue("id"), operation.ApproveRequest{ListVersion: r.PostFormValue("list_version"), RequireVersion: true})
	if err != nil {
		s.actionFailed(w, r, err)
		return
	}
	confirm := "approved"
	if c.State == breach.CampaignDraft {
		confirm = "approval"
	}
	http.Redirect(w, r, "/campaigns/"+c.ID+"?done="+confirm, http.StatusSeeOther)
}

// move starts, pauses, resumes or cancels a campaign.
func (s *Server) move(m operation.Move, confirm string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Ops.MoveCampaign(r.Context(), actorOf(r.Context()), r.PathValue("id"), m)
		if err != nil {
			s.actionFailed(w, r, err)
			return
		}
		http.Redirect(w, r, "/campaigns/"+c.ID+"?done="+confirm, http.StatusSeeOther)
	}
}

// retryFailed sends a running or paused campaign's failed notices of the form's channel again
// (operation.Service.RequeueFailed), and says how many.
func (s *Server) retryFailed(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10) // the form is one small field
	ch := breach.Channel(r.PostFormValue("channel"))
	n, err := s.Ops.RequeueFailed(r.Context(), actorOf(r.Context()), r.PathValue("id"), ch)
	if err != nil {
		s.actionFailed(w, r, err)
		return
	}
	s.campaignPage(w, r, http.StatusOK, fmt.Sprintf("%d failed %s notices are queued again: the workers send them now (or when the campaign is resumed).", n, ch), "", nil)
}

// testSend sends the real notice of one customer (the list's first unless a customer_id is
// given) to reviewers' addresses and numbers (operation.Service.TestSend).
func (s *Server) testSend(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	req := operation.TestSendRequest{To: strings.FieldsFunc(r.PostFormValue("to"), func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})}
	if id := strings.TrimSpace(r.PostFormValue("customer_id")); id != "" {
		req.Customers = []string{id}
	}
	res, err := s.Ops.TestSend(r.Context(), actorOf(r.Context()), r.PathValue("id"), req)
	if err != nil {
		if code := breach.ErrorCode(err); code != breach.EINTERNAL {
			err = breach.Errorf(code, "Test send: %s", breach.ErrorMessage(err))
		}
		s.actionFailed(w, r, err)
		return
	}
	msg := "Test notices sent. Each reviewer should check them now."
	if res.Failed > 0 {
		msg = "Some test notices could not be sent: see below."
	}
	s.campaignPage(w, r, http.StatusOK, msg, "", res.Sent)
}

// export downloads the proof-of-notice record (operation.Service.Export: audited before the
// first row leaves and when it ends).
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	started := false
	rows, err := s.Ops.Export(r.Context(), actorOf(r.Context()), r.PathValue("id"), func(c *breach.Campaign) (io.Writer, error) {
		started = true
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="deliveries-`+c.ID+`.csv"`)
		return w, nil
	})
	switch {
	case err != nil && !started:
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
	case err != nil:
		s.Log.Error("export failed midway", "campaign", r.PathValue("id"), "rows", rows, "err", err)
		panic(http.ErrAbortHandler) // a truncated proof must not look complete
	}
}

// purge deletes a finished campaign's personal data now (operation.Service.Purge).
func (s *Server) purge(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Ops.Purge(r.Context(), actorOf(r.Context()), r.PathValue("id"))
	if err != nil {
		s.actionFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/campaigns/"+rep.CampaignID+"?done=purged", http.StatusSeeOther)
}
