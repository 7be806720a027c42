package kubernetes_test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/modshop/modshop/modules/cart"
	"github.com/modshop/modshop/modules/catalog"
	"github.com/modshop/modshop/modules/customers"
	"github.com/modshop/modshop/modules/inventory"
	"github.com/modshop/modshop/modules/orders"
	"github.com/modshop/modshop/modules/payments"
	"github.com/modshop/modshop/modules/search"
	"github.com/modshop/modshop/modules/web"
	"github.com/modshop/modshop/platform/config"
)

// modules are the modules of the binary.
var modules = []string{inventory.Name, catalog.Name, search.Name, cart.Name, customers.Name, payments.Name, orders.Name, web.Name}

var overlays = []string{"monolith", "split"}

func TestOverlays(t *testing.T) {
	for _, o := range overlays {
		t.Run(o, func(t *testing.T) {
			for _, p := range check(t, filepath.Join("overlays", o)) {
				t.Error(p)
			}
		})
	}
}

// Each planted mistake is caught.
func TestPlantedMistakesAreCaught(t *testing.T) {
	for _, m := range []struct {
		name, file, old, new, overlay, want string
	}{
		{"misspelt field", "base/app/deployment.yaml", "readinessProbe:", "readinesProbe:", "monolith", `unknown field "readinesProbe"`},
		{"wrong probe path", "base/app/deployment.yaml", "path: /readyz", "path: /ready", "monolith", `readiness probe GET /ready on port http, want /readyz`},
		{"wrong probe port", "base/app/deployment.yaml", "containerPort: 8080", "containerPort: 9090", "monolith", "listens on 8080 (MODSHOP_HTTP_ADDR), but port http is 9090"},
		{"module run twice", "overlays/split/shop/kustomization.yaml", "MODSHOP_MODULES=catalog,cart,", "MODSHOP_MODULES=catalog,search,cart,", "split", "search runs in 2 Deployments (modshop, modshop-search)"},
		{"module run nowhere", "overlays/split/shop/kustomization.yaml", "MODSHOP_MODULES=catalog,cart,", "MODSHOP_MODULES=catalog,", "split", "cart runs in no Deployment"},
		{"storefront run nowhere", "overlays/split/kustomization.yaml", "  - web\n", "", "split", "web runs in no Deployment"},
		{"unknown variable", "base/kustomization.yaml", "MODSHOP_LOG_LEVEL=info", "MODSHOP_LOG_LEVLE=info", "monolith", "MODSHOP_LOG_LEVLE is not a modshop setting"},
		{"remote without a Service", "overlays/split/shop/kustomization.yaml", "http://modshop-search:8080", "http://modshop-serch:8080", "split", `MODSHOP_REMOTE_SEARCH=http://modshop-serch:8080 names no Service`},
		{"remote at the wrong process", "overlays/split/shop/kustomization.yaml", "MODSHOP_REMOTE_SEARCH=http://modshop-search:8080", "MODSHOP_REMOTE_SEARCH=http://modshop-inventory:8080", "split", "Service modshop-inventory does not select the Deployment that runs search"},
		{"literal secret", "base/app/deployment.yaml", "            - name: MODSHOP_HTTP_ADDR\n", "            - name: MODSHOP_BOOTSTRAP_ADMIN_PASSWORD\n              value: hunter2hunter2\n            - name: MODSHOP_HTTP_ADDR\n", "monolith", "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD is a literal value; secrets come from a Secret"},
		{"secret in the ConfigMap", "base/kustomization.yaml", "- MODSHOP_CURRENCY=EUR", "- MODSHOP_CURRENCY=EUR\n      - MODSHOP_JWT_SECRET=0123456789abcdef0123456789abcdef", "monolith", "MODSHOP_JWT_SECRET comes from ConfigMap"},
		{"grace shorter than the shutdown", "base/kustomization.yaml", "MODSHOP_SHUTDOWN_TIMEOUT=20s", "MODSHOP_SHUTDOWN_TIMEOUT=60s", "monolith", "terminationGracePeriodSeconds 50 is not more than the preStop pause (5s) + MODSHOP_SHUTDOWN_TIMEOUT (1m0s)"},
		{"replicas beside the autoscaler", "overlays/split/search/kustomization.yaml", "      - op: remove\n        path: /spec/replicas\n", "", "split", "Deployment/modshop-search: sets replicas, which its HorizontalPodAutoscaler sets"},
		{"writable root", "base/app/deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "monolith", "root filesystem is writable"},
	} {
		t.Run(m.name, func(t *testing.T) {
			dir := copyTree(t)
			file := filepath.Join(dir, m.file)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), m.old) {
				t.Fatalf("%s has no %q to change", m.file, m.old)
			}
			if err := os.WriteFile(file, []byte(strings.Replace(string(b), m.old, m.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			problems := check(t, filepath.Join(dir, "overlays", m.overlay))
			for _, p := range problems {
				if strings.Contains(p, m.want) {
					return
				}
			}
			t.Fatalf("not caught: want a problem saying %q, got %q", m.want, problems)
		})
	}
}

// copyTree copies the manifests to a temporary folder.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// objects are the decoded objects of one rendered overlay.
type objects struct {
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	services     []*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
}

// secretNames are the variables that hold secrets.
func isSecret(name string) bool {
	return strings.HasPrefix(name, "MODSHOP_DATABASE_URL") || name == "MODSHOP_JWT_SECRET" ||
		name == "MODSHOP_INTERNAL_TOKEN" || name == "MODSHOP_BOOTSTRAP_ADMIN_PASSWORD"
}

// check renders the kustomization in dir and lists what is wrong with it.
func check(t *testing.T, dir string) []string {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return []string{"render: " + err.Error()}
	}
	var p []string
	o := objects{configMaps: map[string]*corev1.ConfigMap{}}
	for _, r := range res.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return []string{err.Error()}
		}
		id := r.GetKind() + "/" + r.GetName()
		var target any
		switch r.GetKind() {
		case "Deployment":
			d := new(appsv1.Deployment)
			o.deployments, target = append(o.deployments, d), d
		case "StatefulSet":
			s := new(appsv1.StatefulSet)
			o.statefulSets, target = append(o.statefulSets, s), s
		case "Service":
			s := new(corev1.Service)
			o.services, target = append(o.services, s), s
		case "ConfigMap":
			c := new(corev1.ConfigMap)
			o.configMaps[r.GetName()], target = c, c
		case "HorizontalPodAutoscaler":
			h := new(autoscalingv2.HorizontalPodAutoscaler)
			o.hpas, target = append(o.hpas, h), h
		case "PodDisruptionBudget":
			target = new(policyv1.PodDisruptionBudget)
		case "Job":
			target = new(batchv1.Job)
		case "Secret":
			p = append(p, id+": a Secret in the manifests holds its values in the repository; reference one created in the cluster")
			continue
		default:
			p = append(p, id+": a kind this check does not know")
			continue
		}
		// Strict: an unknown or misspelt field fails.
		if err := yaml.UnmarshalStrict(y, target); err != nil {
			p = append(p, id+": "+err.Error())
		}
	}
	if len(p) > 0 {
		return p
	}
	runs := map[string][]string{} // module → Deployments that run it
	for _, d := range o.deployments {
		p = append(p, o.checkPod(d.Name, d.Spec.Template.Spec, d.Spec.Template.Labels, runs)...)
	}
	for _, s := range o.statefulSets {
		p = append(p, o.checkSecurity("StatefulSet/"+s.Name, s.Spec.Template.Spec)...)
	}
	for _, m := range modules {
		switch ds := runs[m]; len(ds) {
		case 0:
			p = append(p, m+" runs in no Deployment")
		case 1:
		default:
			p = append(p, fmt.Sprintf("%s runs in %d Deployments (%s)", m, len(ds), strings.Join(ds, ", ")))
		}
	}
	for _, h := range o.hpas {
		i := slices.IndexFunc(o.deployments, func(d *appsv1.Deployment) bool {
			return h.Spec.ScaleTargetRef.Kind == "Deployment" && d.Name == h.Spec.ScaleTargetRef.Name
		})
		switch {
		case i < 0:
			p = append(p, "HorizontalPodAutoscaler/"+h.Name+": scales "+h.Spec.ScaleTargetRef.Name+", which is no Deployment here")
		case o.deployments[i].Spec.Replicas != nil:
			// kubectl apply would set them back at each apply.
			p = append(p, "Deployment/"+o.deployments[i].Name+": sets replicas, which its HorizontalPodAutoscaler sets")
		}
	}
	// Remotes: the URL names a Service of the overlay, on one of its
	// ports, that selects the pods running the module.
	for _, d := range o.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for name, v := range o.env(c) {
				mod, ok := strings.CutPrefix(name, "MODSHOP_REMOTE_")
				if !ok || v.literal == "" {
					continue
				}
				p = append(p, o.checkRemote(d.Name, name, v.literal, strings.ToLower(mod), runs)...)
			}
		}
	}
	return p
}

// value is where a container's variable comes from.
type value struct {
	literal   string // a value in the manifests (env value or ConfigMap)
	configMap string // the ConfigMap it comes from, if any
	secret    bool   // a secretKeyRef
}

// env is a container's environment: envFrom ConfigMaps first, then env,
// which wins.
func (o objects) env(c corev1.Container) map[string]value {
	out := map[string]value{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		if cm := o.configMaps[ef.ConfigMapRef.Name]; cm != nil {
			for k, v := range cm.Data {
				out[ef.Prefix+k] = value{literal: v, configMap: cm.Name}
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			out[e.Name] = value{secret: true}
		case e.ValueFrom != nil:
			out[e.Name] = value{}
		default:
			out[e.Name] = value{literal: e.Value}
		}
	}
	return out
}

func (o objects) checkPod(name string, spec corev1.PodSpec, labels map[string]string, runs map[string][]string) []string {
	id := "Deployment/" + name
	p := o.checkSecurity(id, spec)
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		cid := id + " container " + c.Name
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil && o.configMaps[ef.ConfigMapRef.Name] == nil {
				p = append(p, fmt.Sprintf("%s: ConfigMap %s is not in the manifests", cid, ef.ConfigMapRef.Name))
			}
			if ef.SecretRef != nil {
				p = append(p, cid+": envFrom a Secret hides which variables it sets; name each one with secretKeyRef")
			}
		}
		names := append(config.Names(modules), moduleSettings()...)
		env := o.env(c)
		for n, v := range env {
			if !strings.HasPrefix(n, "MODSHOP_") {
				continue
			}
			if !slices.Contains(names, n) {
				p = append(p, fmt.Sprintf("%s: %s is not a modshop setting (platform/config)", cid, n))
			}
			if isSecret(n) && !v.secret {
				if v.configMap != "" {
					p = append(p, fmt.Sprintf("%s: %s comes from ConfigMap %s; secrets come from a Secret (secretKeyRef)", cid, n, v.configMap))
				} else {
					p = append(p, fmt.Sprintf("%s: %s is a literal value; secrets come from a Secret (secretKeyRef)", cid, n))
				}
			}
			if u, err := url.Parse(v.literal); err == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					p = append(p, fmt.Sprintf("%s: %s holds a password in a literal URL", cid, n))
				}
			}
		}
		if v := env["MODSHOP_SHUTDOWN_TIMEOUT"]; v.literal != "" && spec.TerminationGracePeriodSeconds != nil {
			d, err := time.ParseDuration(v.literal)
			pause := time.Duration(0)
			if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
				pause = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
			}
			if grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second; err == nil && grace <= pause+d {
				p = append(p, fmt.Sprintf("%s: terminationGracePeriodSeconds %d is not more than the preStop pause (%s) + MODSHOP_SHUTDOWN_TIMEOUT (%s)",
					cid, *spec.TerminationGracePeriodSeconds, pause, d))
			}
		}
		if !slices.Contains(c.Args, "serve") {
			continue
		}
		// The serving container: probes on the port it listens on.
		addr := ":8080"
		if v := env["MODSHOP_HTTP_ADDR"]; v.literal != "" {
			addr = v.literal
		}
		_, port, _ := net.SplitHostPort(addr)
		for _, pr := range []struct {
			what, path string
			probe      *corev1.Probe
		}{{"readiness", "/readyz", c.ReadinessProbe}, {"liveness", "/healthz", c.LivenessProbe}} {
			if pr.probe == nil || pr.probe.HTTPGet == nil {
				p = append(p, fmt.Sprintf("%s: no %s probe by HTTP GET %s", cid, pr.what, pr.path))
				continue
			}
			if pr.probe.HTTPGet.Path != pr.path {
				p = append(p, fmt.Sprintf("%s: readiness probe GET %s on port %s, want %s", cid, pr.probe.HTTPGet.Path, pr.probe.HTTPGet.Port.String(), pr.path))
				if pr.what == "liveness" {
					p[len(p)-1] = strings.Replace(p[len(p)-1], "readiness", "liveness", 1)
				}
			}
			if got := containerPort(c, pr.probe.HTTPGet.Port); strconv.Itoa(got) != port {
				p = append(p, fmt.Sprintf("%s: the process listens on %s (MODSHOP_HTTP_ADDR), but port %s is %d", cid, port, pr.probe.HTTPGet.Port.String(), got))
			}
		}
		mods := strings.Split(env["MODSHOP_MODULES"].literal, ",")
		if env["MODSHOP_MODULES"].literal == "" || env["MODSHOP_MODULES"].literal == "all" {
			mods = modules
		}
		for _, m := range mods {
			m = strings.TrimSpace(m)
			if !slices.Contains(modules, m) {
				p = append(p, fmt.Sprintf("%s: MODSHOP_MODULES names %q, no module", cid, m))
			}
			runs[m] = append(runs[m], name)
		}
		if len(c.Resources.Requests) == 0 || len(c.Resources.Limits) == 0 {
			p = append(p, cid+": resource requests and limits are required")
		}
	}
	return p
}

// containerPort is the number of a (named) port of the container.
func containerPort(c corev1.Container, port intstr.IntOrString) int {
	if port.Type == intstr.Int {
		return port.IntValue()
	}
	for _, cp := range c.Ports {
		if cp.Name == port.StrVal {
			return int(cp.ContainerPort)
		}
	}
	return 0
}

// checkSecurity: non-root, read-only root filesystem, and writable volumes
// only as emptyDir or claims.
func (o objects) checkSecurity(id string, spec corev1.PodSpec) []string {
	var p []string
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
		p = append(p, id+": the pod does not say runAsNonRoot: true")
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			p = append(p, id+" container "+c.Name+": the root filesystem is writable")
		}
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			p = append(p, id+" container "+c.Name+": privilege escalation is allowed")
		}
	}
	return p
}

func (o objects) checkRemote(deployment, name, raw, module string, runs map[string][]string) []string {
	id := "Deployment/" + deployment + ": " + name + "=" + raw
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return []string{id + " is not a URL"}
	}
	host := strings.Split(u.Hostname(), ".")[0] // service, service.namespace, service.namespace.svc...
	var svc *corev1.Service
	for _, s := range o.services {
		if s.Name == host {
			svc = s
		}
	}
	if svc == nil {
		return []string{id + " names no Service of these manifests"}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return strconv.Itoa(int(sp.Port)) == port }) {
		return []string{fmt.Sprintf("%s: Service %s has no port %s", id, svc.Name, port)}
	}
	for _, d := range o.deployments {
		if selects(svc.Spec.Selector, d.Spec.Template.Labels) && slices.Contains(runs[module], d.Name) {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: Service %s does not select the Deployment that runs %s", id, svc.Name, module)}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// moduleSettings are the variables the modules' own settings read
// (modules/<m>/settings.go): asked of an empty environment, each module
// names what it reads.
func moduleSettings() []string {
	var names []string
	env := config.NewEnv(func(k string) string { names = append(names, k); return "" })
	inventory.ReadSettings(env)
	customers.ReadSettings(env)
	web.ReadSettings(env)
	return names
}
