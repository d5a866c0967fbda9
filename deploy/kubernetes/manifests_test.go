// Package kubernetes_test renders the kustomizations in this directory with kustomize's own
// Go API (no cluster, no network, no kubectl) and checks every object they produce: strictly
// decoded into the k8s.io/api types (an unknown or mistyped field fails, as the API server
// would refuse it), then held to the rules that matter when breachnotice runs there.
package kubernetes_test

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/breachnotice/breachnotice/internal/dispatch"
)

// kustomizations are the directories an operator applies (README, Deploying).
var kustomizations = []string{"base", "migrate", "example", "example/migrate"}

// secretVars must only ever come from a Secret, never as a literal value or a ConfigMap key.
var secretVars = []string{"DATABASE_URL", "REDIS_URL", "BREACHNOTICE_SECRET", "SMTP_URL",
	"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "WEBHOOK_SECRET", "POSTGRES_PASSWORD"}

// requiredSecretVars are what every long-running command refuses to start without.
var requiredSecretVars = []string{"DATABASE_URL", "REDIS_URL", "BREACHNOTICE_SECRET"}

// manifests is one kustomization's output, decoded.
type manifests struct {
	dir             string
	deployments     []*appsv1.Deployment
	jobs            []*batchv1.Job
	services        []*corev1.Service
	configMaps      []*corev1.ConfigMap
	serviceAccounts []*corev1.ServiceAccount
	pdbs            []*policyv1.PodDisruptionBudget
	netpols         []*networkingv1.NetworkPolicy
	// labels of every object, for the upgrade order's label selectors.
	objectLabels map[string]map[string]string
}

// rendered keeps each kustomization's output for the tests after the first (nil: it failed,
// and that test said why).
var rendered = map[string]*manifests{}

// render runs kustomize on dir and validates and strictly decodes each object, once per dir.
func render(t *testing.T, dir string) *manifests {
	t.Helper()
	m, done := rendered[dir]
	if !done {
		defer func() { rendered[dir] = m }()
		m = renderOnce(t, dir)
	}
	if m == nil {
		t.Fatalf("%s did not render or validate (see the first test that failed)", dir)
	}
	return m
}

func renderOnce(t *testing.T, dir string) *manifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize %s: %v", dir, err)
	}
	m := &manifests{dir: dir, objectLabels: map[string]map[string]string{}}
	for _, r := range rm.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		kind := r.GetApiVersion() + "/" + r.GetKind()
		id := r.GetKind() + "/" + r.GetName()
		var obj any
		switch kind {
		case "apps/v1/Deployment":
			o := new(appsv1.Deployment)
			m.deployments, obj = append(m.deployments, o), o
		case "batch/v1/Job":
			o := new(batchv1.Job)
			m.jobs, obj = append(m.jobs, o), o
		case "v1/Service":
			o := new(corev1.Service)
			m.services, obj = append(m.services, o), o
		case "v1/ConfigMap":
			o := new(corev1.ConfigMap)
			m.configMaps, obj = append(m.configMaps, o), o
		case "v1/ServiceAccount":
			o := new(corev1.ServiceAccount)
			m.serviceAccounts, obj = append(m.serviceAccounts, o), o
		case "policy/v1/PodDisruptionBudget":
			o := new(policyv1.PodDisruptionBudget)
			m.pdbs, obj = append(m.pdbs, o), o
		case "networking.k8s.io/v1/NetworkPolicy":
			o := new(networkingv1.NetworkPolicy)
			m.netpols, obj = append(m.netpols, o), o
		case "v1/Secret":
			t.Fatalf("%s: %s: the manifests ship no Secret; the operator creates it (README, Deploying)", dir, id)
		default:
			t.Fatalf("%s: %s: kind %s has no decoder in this test; add one", dir, id, kind)
		}
		// UnmarshalStrict: an unknown field (a typo, a field of another kind or version) or a
		// value of the wrong type fails here, as the API server would refuse it.
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Errorf("%s: %s does not match the Kubernetes %s schema: %v", dir, id, kind, err)
		}
		m.objectLabels[id] = r.GetLabels()
	}
	if t.Failed() {
		t.FailNow()
	}
	return m
}

// workloads are the pod templates of the Deployments and Jobs, by object name.
func (m *manifests) workloads() map[string]*corev1.PodTemplateSpec {
	w := map[string]*corev1.PodTemplateSpec{}
	for _, d := range m.deployments {
		w["Deployment/"+d.Name] = &d.Spec.Template
	}
	for _, j := range m.jobs {
		w["Job/"+j.Name] = &j.Spec.Template
	}
	return w
}

func (m *manifests) deployment(name string) *appsv1.Deployment {
	for _, d := range m.deployments {
		if d.Name == name {
			return d
		}
	}
	return nil
}

func TestManifests_DecodeStrictlyIntoTheKubernetesTypes(t *testing.T) {
	for _, dir := range kustomizations {
		m := render(t, dir)
		if len(m.workloads()) == 0 {
			t.Errorf("%s renders no workload", dir)
		}
	}
}

func TestManifests_EveryContainerIsBoundedAndRunsAsNonRootOnAReadOnlyRoot(t *testing.T) {
	for _, dir := range kustomizations {
		m := render(t, dir)
		for name, pod := range m.workloads() {
			ps := pod.Spec.SecurityContext
			if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
				t.Errorf("%s: %s: pod securityContext.runAsNonRoot must be true", dir, name)
			}
			if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
				t.Errorf("%s: %s: automountServiceAccountToken must be false (breachnotice calls no Kubernetes API)", dir, name)
			}
			for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
				where := fmt.Sprintf("%s: %s container %s", dir, name, c.Name)
				if c.Image == "" {
					t.Errorf("%s: no image", where)
				}
				for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
						t.Errorf("%s: no %s request", where, r)
					}
				}
				if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
					t.Errorf("%s: no memory limit", where)
				}
				sc := c.SecurityContext
				switch {
				case sc == nil:
					t.Errorf("%s: no securityContext", where)
				case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
					t.Errorf("%s: readOnlyRootFilesystem must be true", where)
				case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
					t.Errorf("%s: allowPrivilegeEscalation must be false", where)
				case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
					t.Errorf("%s: capabilities must drop ALL", where)
				}
			}
		}
		for _, sa := range m.serviceAccounts {
			if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
				t.Errorf("%s: ServiceAccount %s must not automount its token", dir, sa.Name)
			}
		}
	}
}

func TestManifests_SecretsComeOnlyByReferenceToTheOperatorsSecret(t *testing.T) {
	for _, dir := range kustomizations {
		m := render(t, dir)
		for _, cm := range m.configMaps {
			for k := range cm.Data {
				if slices.Contains(secretVars, k) {
					t.Errorf("%s: ConfigMap %s holds %s: secrets belong in the Secret", dir, cm.Name, k)
				}
			}
		}
		for name, pod := range m.workloads() {
			for _, c := range pod.Spec.Containers {
				refs := map[string]bool{}
				for _, e := range c.Env {
					if !slices.Contains(secretVars, e.Name) {
						continue
					}
					ref := (*corev1.SecretKeySelector)(nil)
					if e.ValueFrom != nil {
						ref = e.ValueFrom.SecretKeyRef
					}
					if e.Value != "" || ref == nil {
						t.Errorf("%s: %s container %s: %s must come from a secretKeyRef, not a value", dir, name, c.Name, e.Name)
						continue
					}
					refs[e.Name] = ref.Optional == nil || !*ref.Optional
				}
				required := requiredSecretVars
				if slices.Contains(c.Args, "migrate") {
					required = []string{"DATABASE_URL"}
				}
				for _, v := range required {
					if !refs[v] {
						t.Errorf("%s: %s container %s: %s must be a required secretKeyRef", dir, name, c.Name, v)
					}
				}
			}
		}
	}
}

func TestManifests_ServeIsProbedAndSpreadAcrossTwoPods(t *testing.T) {
	for _, dir := range []string{"base", "example"} {
		m := render(t, dir)
		d := m.deployment("breachnotice-serve")
		if d == nil {
			t.Fatalf("%s: no breachnotice-serve Deployment", dir)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
			t.Errorf("%s: serve needs at least 2 replicas, has %v", dir, d.Spec.Replicas)
		}
		c := d.Spec.Template.Spec.Containers[0]
		for _, p := range []struct {
			name string
			got  *corev1.Probe
			path string
		}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}} {
			if p.got == nil || p.got.HTTPGet == nil {
				t.Errorf("%s: serve has no HTTP %s probe", dir, p.name)
				continue
			}
			if p.got.HTTPGet.Path != p.path {
				t.Errorf("%s: serve's %s probe asks %s, want %s", dir, p.name, p.got.HTTPGet.Path, p.path)
			}
			if !containerHasPort(c, p.got.HTTPGet.Port) {
				t.Errorf("%s: serve's %s probe port %s is not a container port", dir, p.name, p.got.HTTPGet.Port.String())
			}
		}
	}
}

// TestManifests_GracePeriodsOutlastTheDrain: Kubernetes SIGKILLs a pod its grace period after
// SIGTERM. A worker killed mid-drain leaves notices claimed and possibly sent for the
// reconciler to send again; serve cut short drops requests in flight.
func TestManifests_GracePeriodsOutlastTheDrain(t *testing.T) {
	// dispatch.Engine.Run: asynq waits ShutdownTimeout for the tasks in flight, Run
	// HandlerGrace more for those still recording, then the worker unregisters within 10s.
	workerDrain := dispatch.DefaultConfig().ShutdownTimeout + dispatch.HandlerGrace + 10*time.Second
	// cmd/breachnotice serve: http.Server.Shutdown gets 30s.
	const serveDrain = 30 * time.Second
	for _, dir := range []string{"base", "example"} {
		m := render(t, dir)
		for name, drain := range map[string]time.Duration{"breachnotice-worker": workerDrain, "breachnotice-serve": serveDrain} {
			d := m.deployment(name)
			if d == nil {
				t.Fatalf("%s: no %s Deployment", dir, name)
			}
			spec := d.Spec.Template.Spec
			if ls := spec.Containers[0].Lifecycle; ls != nil && ls.PreStop != nil && ls.PreStop.Sleep != nil {
				drain += time.Duration(ls.PreStop.Sleep.Seconds) * time.Second
			}
			if spec.TerminationGracePeriodSeconds == nil {
				t.Errorf("%s: %s has no terminationGracePeriodSeconds (default 30 s, shorter than its drain of %v)", dir, name, drain)
				continue
			}
			if grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second; grace <= drain {
				t.Errorf("%s: %s's grace period %v does not outlast its drain of %v", dir, name, grace, drain)
			}
		}
	}
}

func TestManifests_DisruptionBudgetsSelectThePodsTheyProtect(t *testing.T) {
	for _, dir := range []string{"base", "example"} {
		m := render(t, dir)
		for _, d := range m.deployments {
			covered := 0
			for _, pdb := range m.pdbs {
				sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
				if err != nil || sel.Empty() {
					t.Errorf("%s: PodDisruptionBudget %s: bad or empty selector (%v)", dir, pdb.Name, err)
					continue
				}
				if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
					covered++
				}
			}
			if covered != 1 {
				t.Errorf("%s: Deployment %s is covered by %d PodDisruptionBudgets, want 1", dir, d.Name, covered)
			}
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Errorf("%s: Deployment %s's selector does not match its own pods", dir, d.Name)
			}
		}
		for _, pdb := range m.pdbs {
			sel, _ := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
			if !slices.ContainsFunc(m.deployments, func(d *appsv1.Deployment) bool { return sel.Matches(labels.Set(d.Spec.Template.Labels)) }) {
				t.Errorf("%s: PodDisruptionBudget %s selects no pod", dir, pdb.Name)
			}
		}
		for _, s := range m.services {
			for _, p := range s.Spec.Ports {
				if !slices.ContainsFunc(m.deployments, func(d *appsv1.Deployment) bool {
					return labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) &&
						containerHasPort(d.Spec.Template.Spec.Containers[0], p.TargetPort)
				}) {
					t.Errorf("%s: Service %s port %s reaches no container port", dir, s.Name, p.Name)
				}
			}
		}
	}
}

// TestManifests_NetworkPoliciesOpenOnlyTheHTTPPortAndMetricsToMonitoring: everything is denied
// unless a policy opens it; only serve's http port is open to any peer, the metrics port only
// to a namespace selector, and every opened port is one a selected container listens on.
func TestManifests_NetworkPoliciesOpenOnlyTheHTTPPortAndMetricsToMonitoring(t *testing.T) {
	for _, dir := range []string{"base", "example"} {
		m := render(t, dir)
		pods := m.workloads()
		denyAll := false
		for _, np := range m.netpols {
			sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
			if err != nil {
				t.Fatalf("%s: NetworkPolicy %s: %v", dir, np.Name, err)
			}
			var selected []*corev1.PodTemplateSpec
			for _, pod := range pods {
				if sel.Matches(labels.Set(pod.Labels)) {
					selected = append(selected, pod)
				}
			}
			if len(selected) == 0 {
				t.Errorf("%s: NetworkPolicy %s selects no pod", dir, np.Name)
			}
			if len(np.Spec.Ingress) == 0 && slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) && len(selected) == len(pods) {
				denyAll = true
			}
			for _, rule := range np.Spec.Ingress {
				if len(rule.Ports) == 0 {
					t.Errorf("%s: NetworkPolicy %s opens every port", dir, np.Name)
				}
				for _, p := range rule.Ports {
					if p.Port == nil {
						t.Errorf("%s: NetworkPolicy %s opens every port", dir, np.Name)
						continue
					}
					for _, pod := range selected {
						if !containerHasPort(pod.Spec.Containers[0], *p.Port) {
							t.Errorf("%s: NetworkPolicy %s opens port %s, on which %s does not listen",
								dir, np.Name, p.Port.String(), pod.Spec.Containers[0].Name)
						}
					}
					named := portName(selected[0].Spec.Containers[0], *p.Port)
					switch {
					case named == "http" && len(rule.From) == 0 && selectsOnly(sel, pods, "serve"):
					case named == "metrics" && len(rule.From) > 0 && onlyNamespaceSelectors(rule.From):
					default:
						t.Errorf("%s: NetworkPolicy %s opens port %s (%s) to %v: only serve's http port may be open, and metrics only to a monitoring namespace",
							dir, np.Name, p.Port.String(), named, rule.From)
					}
				}
			}
		}
		if !denyAll {
			t.Errorf("%s: no NetworkPolicy denies ingress to every breachnotice pod by default", dir)
		}
	}
}

// TestManifests_ListenAddressesMatchTheContainerPorts: HTTP_ADDR and METRICS_ADDR in the
// ConfigMap are what the probes, the Service and the NetworkPolicies point at.
func TestManifests_ListenAddressesMatchTheContainerPorts(t *testing.T) {
	for _, dir := range []string{"base", "example"} {
		m := render(t, dir)
		for _, d := range m.deployments {
			c := d.Spec.Template.Spec.Containers[0]
			env := map[string]string{}
			for _, from := range c.EnvFrom {
				if from.ConfigMapRef == nil {
					continue
				}
				i := slices.IndexFunc(m.configMaps, func(cm *corev1.ConfigMap) bool { return cm.Name == from.ConfigMapRef.Name })
				if i < 0 {
					t.Fatalf("%s: %s reads ConfigMap %s, which is not rendered", dir, d.Name, from.ConfigMapRef.Name)
				}
				for k, v := range m.configMaps[i].Data {
					env[k] = v
				}
			}
			for name, variable := range map[string]string{"http": "HTTP_ADDR", "metrics": "METRICS_ADDR"} {
				i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == name })
				if i < 0 {
					continue
				}
				_, port, err := net.SplitHostPort(env[variable])
				if err != nil || port != strconv.Itoa(int(c.Ports[i].ContainerPort)) {
					t.Errorf("%s: %s: %s=%q but the container's %s port is %d", dir, d.Name, variable, env[variable], name, c.Ports[i].ContainerPort)
				}
			}
		}
	}
}

// TestManifests_ExampleRunsOneImageAndRollsWorkersBeforeServe: the README's upgrade applies
// the migration Job, then `-l app.kubernetes.io/component!=serve` (the workers with everything
// they need), then the rest; the Job and the app must run the same release.
func TestManifests_ExampleRunsOneImageAndRollsWorkersBeforeServe(t *testing.T) {
	app, migrate := render(t, "example"), render(t, "example/migrate")
	var images []string
	for _, m := range []*manifests{app, migrate} {
		for _, pod := range m.workloads() {
			for _, c := range pod.Spec.Containers {
				images = append(images, c.Image)
			}
		}
	}
	slices.Sort(images)
	if images = slices.Compact(images); len(images) != 1 {
		t.Fatalf("the example runs %d images, want one release: %v", len(images), images)
	}
	if i := strings.LastIndex(images[0], ":"); i < 0 || strings.HasSuffix(images[0], ":latest") || !strings.Contains(images[0], "/") {
		t.Errorf("image %q: name a registry and a release tag (not latest), so that every pod runs the same release", images[0])
	}
	if len(migrate.jobs) != 1 || !slices.Contains(migrate.jobs[0].Spec.Template.Spec.Containers[0].Args, "migrate") {
		t.Fatalf("example/migrate must render the one Job running breachnotice migrate")
	}
	if len(app.jobs) != 0 {
		t.Errorf("the app kustomization renders a Job: the migration is applied (and awaited) on its own, first")
	}
	notServe, _ := labels.Parse("app.kubernetes.io/component!=serve")
	firstStep := map[string]bool{}
	for id, l := range app.objectLabels {
		if notServe.Matches(labels.Set(l)) {
			firstStep[id] = true
		}
	}
	w := app.deployment("breachnotice-worker")
	if w == nil || !firstStep["Deployment/breachnotice-worker"] || firstStep["Deployment/breachnotice-serve"] {
		t.Fatalf("the workers' step must apply the worker Deployment and not serve's")
	}
	needs := []string{"ServiceAccount/" + w.Spec.Template.Spec.ServiceAccountName}
	for _, from := range w.Spec.Template.Spec.Containers[0].EnvFrom {
		if from.ConfigMapRef != nil {
			needs = append(needs, "ConfigMap/"+from.ConfigMapRef.Name)
		}
	}
	for _, id := range needs {
		if !firstStep[id] {
			t.Errorf("the workers' step does not apply %s, which the workers need", id)
		}
	}
}

// containerHasPort reports whether c listens on port, given by number or by name.
func containerHasPort(c corev1.Container, port intstr.IntOrString) bool {
	return portName(c, port) != ""
}

// portName is the name of c's port given by number or name ("" when c has no such port).
func portName(c corev1.Container, port intstr.IntOrString) string {
	for _, p := range c.Ports {
		if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			return p.Name
		}
	}
	return ""
}

// selectsOnly reports whether sel selects pods of the component only.
func selectsOnly(sel labels.Selector, pods map[string]*corev1.PodTemplateSpec, component string) bool {
	for _, pod := range pods {
		if sel.Matches(labels.Set(pod.Labels)) && pod.Labels["app.kubernetes.io/component"] != component {
			return false
		}
	}
	return true
}

// onlyNamespaceSelectors reports whether every peer is a whole namespace chosen by labels
// (not an IP block, not every namespace).
func onlyNamespaceSelectors(peers []networkingv1.NetworkPolicyPeer) bool {
	for _, p := range peers {
		if p.IPBlock != nil || p.NamespaceSelector == nil || len(p.NamespaceSelector.MatchLabels)+len(p.NamespaceSelector.MatchExpressions) == 0 {
			return false
		}
	}
	return true
}
