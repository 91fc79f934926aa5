import type { KubeObject } from './kube.ts';

/** Small readers over rendered manifests, for the chart and manifest tests. */

export function ofKind(objects: KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function named(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

export function kinds(objects: KubeObject[]): string[] {
  return [...new Set(objects.map((o) => o.kind))].sort();
}

/** Every workload's pod template (the chart renders Deployments only). */
export function podTemplates(objects: KubeObject[]): { owner: KubeObject; spec: any; labels: Record<string, string> }[] {
  return ofKind(objects, 'Deployment').map((d) => ({ owner: d, spec: d.spec.template.spec, labels: d.spec.template.metadata.labels }));
}

export function containers(objects: KubeObject[]): { owner: KubeObject; pod: any; container: any }[] {
  return podTemplates(objects).flatMap(({ owner, spec }) => (spec.containers as any[]).map((container) => ({ owner, pod: spec, container })));
}

export function matchesSelector(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The role a container runs: the image's entrypoint argument. */
export function roleOf(container: any): string {
  return container.args?.[0];
}

/**
 * Which backend Service an Ingress sends a request path to, by the Kubernetes rules: an Exact
 * match wins, else the longest matching Prefix (whole path elements).
 */
export function routeOf(ingress: KubeObject, requestPath: string): string | undefined {
  const paths: { path: string; pathType: string; backend: any }[] = ingress.spec.rules.flatMap((r: any) => r.http.paths);
  const exact = paths.find((p) => p.pathType === 'Exact' && p.path === requestPath);
  if (exact) return exact.backend.service.name;
  const prefixes = paths
    .filter((p) => p.pathType === 'Prefix')
    .filter((p) => {
      const prefix = p.path.replace(/\/+$/, '');
      return prefix === '' || requestPath === prefix || requestPath.startsWith(`${prefix}/`);
    })
    .sort((a, b) => b.path.length - a.path.length);
  return prefixes[0]?.backend.service.name;
}

/** The env var names a container gets: its envFrom sources' keys and its own env entries. */
export function envNames(objects: KubeObject[], container: any): string[] {
  const names = new Set<string>((container.env ?? []).map((e: any) => e.name));
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) for (const key of Object.keys(named(objects, 'ConfigMap', source.configMapRef.name).data ?? {})) names.add(key);
    if (source.secretRef) {
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === source.secretRef.name);
      for (const key of Object.keys(secret?.stringData ?? secret?.data ?? {})) names.add(key);
    }
  }
  return [...names];
}
