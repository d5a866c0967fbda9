package breach

// Audit actions: every row of the audit log names one of these. They live here, in one place,
// so that a filter on an action finds it whichever door (API, console, command line) the
// operation came through.
const (
	ActionCampaignCreate   = "campaign.create"
	ActionCampaignApprove  = "campaign.approve" // an approval given (detail: approvals, required, complete)
	ActionApproveRefused   = "campaign.approve_refused"
	ActionCampaignStart    = "campaign.start"
	ActionCampaignPause    = "campaign.pause"
	ActionCampaignResume   = "campaign.resume"
	ActionCampaignCancel   = "campaign.cancelled"
	ActionCampaignComplete = "campaign.complete"
	ActionCampaignRequeue  = "campaign.requeue_failed" // failed notices sent again (detail: channel, requeued)
	ActionCampaignTestSend = "campaign.test_send"
	ActionCampaignExport   = "campaign.exported"
	ActionCampaignPurge    = "campaign.purge"
	ActionCampaignProof    = "campaign.proof"
	ActionImport           = "import"
	ActionRejectsRead      = "import.rejects_download"
	ActionPreviewCustomer  = "preview.customer"
	ActionRecipientView    = "recipient.viewed"
	ActionDeliveriesList   = "deliveries.listed"
	ActionFailuresList     = "failures.listed"
	ActionSuppressionsList = "suppressions.listed"
	ActionRegulatorReport  = "report.regulators"        // who must be told, by when (detail: counts, never people)
	ActionRegulatorSamples = "report.regulator_samples" // sample notices and the website notice, with placeholders
	ActionLettersPrinted   = "letters.printed"          // a letters run: PDFs and manifest of customers' addresses (detail: letters, printed, stage)
	ActionLettersMailed    = "letters.mailed"           // printed letters marked mailed (detail: moved)
	ActionLettersReturned  = "letters.returned"         // returned mail recorded (detail: moved, rejected)
	ActionTokenCreate      = "token.create"
	ActionTokenRevoke      = "token.revoke"
	ActionUserCreate       = "user.create"
	ActionUserDisable      = "user.disable"
	ActionUserReset        = "user.reset"
	ActionSignIn           = "console.sign_in"
	ActionSignInFailed     = "console.sign_in_failed"
	ActionDenied           = "access.denied" // an operation refused for want of a role (detail: attempted, role)
	ActionSignOut          = "console.sign_out"
	ActionQueuesPrefix     = "queues."
	ActionCodesImport      = "codes.import"      // a vendor's enrolment codes added to the pool (detail: counts, never a code)
	ActionCodesExport      = "codes.exported"    // the vendor's export, code → reference (a read)
	ActionOutboxRead       = "outbox.read"       // the console's local capture of notices read (detail: what, counts; never a file name)
	ActionSecretBind       = "secret.bind"       // the database bound to the secret its records are keyed with (actor: the process; nothing of the secret)
	ActionPolicyTwoPerson  = "policy.two_person" // the deployment's two-person rule recorded in the database (actor: the process started with REQUIRE_TWO_PERSON)
	ActionUpgradeFinish    = "upgrade.finish"    // sent notices held on their deliveries from now on (migrate --finish-upgrade)
	ActionUpgradeRollback  = "upgrade.rollback"  // held sent notices written back as events, none held (migrate --before-rollback)
)

// ActionOfMove is the audit action of moving a campaign from one state to another.
func ActionOfMove(from, to CampaignState) string {
	switch {
	case from == CampaignApproved && to == CampaignRunning:
		return ActionCampaignStart
	case from == CampaignPaused && to == CampaignRunning:
		return ActionCampaignResume
	case to == CampaignPaused:
		return ActionCampaignPause
	case to == CampaignCancelled:
		return ActionCampaignCancel
	default:
		return "campaign." + string(to)
	}
}
