package web

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/notice"
)

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Store.Campaigns(r.Context())
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
	c, raw, err := campaignfile.Parse(name, src)
	if err != nil {
		var problems []string
		if fe, ok := errors.AsType[*campaignfile.Error](err); ok {
			problems = strings.Split(fe.Error(), "\n")
		}
		s.renderError(w, r, s.httpStatus(r, err), "new", "New campaign", data,
			"The campaign file has problems. Fix them and try again:", problems...)
		return
	}
	c.CreatedBy = userOf(r.Context()).Actor()
	if err := s.Store.CreateCampaign(r.Context(), c, string(raw)); err != nil {
		s.renderError(w, r, s.httpStatus(r, err), "new", "New campaign", data, errorMessage(err))
		return
	}
	s.audit(r, "campaign.create", c.ID, map[string]any{"name": c.Name})
	http.Redirect(w, r, "/campaigns/"+c.ID+"?done=created", http.StatusSeeOther)
}

// done are the confirmations a redirect after an action asks for (?done=…): fixed texts, so
// that no link can make the console say something it did not do.
var done = map[string]string{
	"created":   "The campaign was created as a draft. Next: upload its customer list.",
	"approved":  "The campaign is approved. An operator can now start sending.",
	"started":   "Sending has started.",
	"paused":    "Sending is paused: no new notice leaves until it is resumed.",
	"resumed":   "Sending has resumed.",
	"cancelled": "The campaign is cancelled: notices not sent yet will never be sent.",
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
	TestSends []dispatch.TestSend
}

func (s *Server) showCampaign(w http.ResponseWriter, r *http.Request) {
	s.campaignPage(w, r, http.StatusOK, done[r.URL.Query().Get("done")], "", nil)
}

// campaignPage renders the campaign page, with a confirmation or an error from an action.
func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request, status int, confirm, errMsg string, sends []dispatch.TestSend) {
	ctx := r.Context()
	c, err := s.Store.Campaign(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	imps, err := s.Store.Imports(ctx, c.ID)
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	tr, err := s.trackingOf(r, c)
	if err != nil {
		s.fail(w, r, s.httpStatus(r, err), errorMessage(err))
		return
	}
	u := userOf(ctx)
	d := &campaignData{C: c, Imports: imps, Tracking: tr, Operator: u.Can(breach.RoleOperator), Approver: u.Can(breach.RoleApprover),
		Jurisdictions: breach.KnownJurisdictions, TestSends: sends}
	if c.State == breach.CampaignDraft {
		d.Lint = s.Renderer.Lint(c)
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

// approve approves a draft campaign whose notices pass lint, as the API does; the store
// applies the two-person rule. A refusal is audited too: it is the attempt a reviewer of the
// log wants to see.
func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	u := userOf(r.Context())
	_, err := s.Store.ApproveCampaign(r.Context(), r.PathValue("id"), u.Actor(), func(c *breach.Campaign) error {
		return notice.Approvable(s.Renderer.Lint(c))
	})
	if err != nil {
		if code := breach.ErrorCode(err); code == breach.ECONFLICT {
			s.audit(r, "campaign.approve_refused", r.PathValue("id"), map[string]any{"reason": errorMessage(err)})
		}
		s.actionFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/campaigns/"+r.PathValue("id")+"?done=approved", http.StatusSeeOther)
}

// move starts, pauses, resumes or cancels a campaign; the store records it in the audit log.
func (s *Server) move(from, to breach.CampaignState, confirm string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, err := s.Store.MoveCampaign(r.Context(), r.PathValue("id"), userOf(r.Context()).Actor(), from, to)
		if err != nil {
			s.actionFailed(w, r, err)
			return
		}
		http.Redirect(w, r, "/campaigns/"+r.PathValue("id")+"?done="+confirm, http.StatusSeeOther)
	}
}

// testSend sends the real notice of one customer (the list's first unless a customer_id is
// given) to reviewers' addresses and numbers; nothing is recorded against the customer. The
// limits and the addresses' rules are the API's (dispatch.ReviewerAddresses), and a purged
// campaign, which has no customers' addresses left, is refused as the API refuses it.
func (s *Server) testSend(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	to := strings.FieldsFunc(r.PostFormValue("to"), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	to, err := dispatch.ReviewerAddresses(to, 1)
	if err != nil {
		s.actionFailed(w, r, breach.Errorf(breach.EINVALID, "Test send: %s", errorMessage(err)))
		return
	}
	c, err := s.Store.Campaign(ctx, r.PathValue("id"))
	if err == nil {
		err = c.NeedsPersonalData("send test notices")
	}
	if err != nil {
		s.actionFailed(w, r, err)
		return
	}
	var recipients []*breach.Recipient
	if id := strings.TrimSpace(r.PostFormValue("customer_id")); id != "" {
		rc, err := s.Store.Recipient(ctx, c.ID, id)
		if err != nil {
			s.actionFailed(w, r, err)
			return
		}
		recipients = append(recipients, rc)
	} else if recipients, err = s.Store.FirstRecipients(ctx, c.ID, 1); err != nil {
		s.actionFailed(w, r, err)
		return
	}
	if len(recipients) == 0 {
		s.actionFailed(w, r, breach.Errorf(breach.ECONFLICT, "Test send: the campaign has no recipients yet. Upload its customer list first."))
		return
	}
	sent, err := s.TestSender.Send(ctx, c, recipients, to)
	if err != nil {
		s.actionFailed(w, r, err)
		return
	}
	failed := dispatch.FailedSends(sent)
	s.audit(r, "campaign.test_send", c.ID, map[string]any{"notices": len(sent), "failed": failed})
	msg := "Test notices sent. Each reviewer should check them now."
	if failed > 0 {
		msg = "Some test notices could not be sent: see below."
	}
	s.campaignPage(w, r, http.StatusOK, msg, "", sent)
}
