// Package kubernetes holds the shop's Kubernetes manifests, as kustomize
// (base/, overlays/monolith, overlays/split; docs/deploy.md). Its test,
// part of `make test`, renders every overlay offline, decodes each object
// strictly with Kubernetes' own types and checks what a reviewer would.
package kubernetes
