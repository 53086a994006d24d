/**
 * The Kubernetes manifests: the kustomize base and the production overlay are rendered by kustomize
 * (`kubectl kustomize`), every object is validated against the Kubernetes and KEDA schemas shipped in
 * kubernetes-models (offline), and the invariants an upload server needs are checked.
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, yamlDocuments } from './helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any };

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};
const KINDS = ['fingerprint', 'documents', 'video', 'generate'];

async function render(dir: string): Promise<Obj[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir]);
  return yamlDocuments<Obj>(stdout);
}

/** Milliseconds from an env value in a container, else from the rendered ConfigMap. */
function envMs(objects: Obj[], container: any, name: string): number {
  const own = container.env?.find((e: any) => e.name === name)?.value;
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'tus-edge-config')!.data;
  return Number(own ?? config[name]);
}

describe.each([
  ['base', 'deploy/kubernetes/base'],
  ['production', 'deploy/kubernetes/overlays/production'],
])('kubernetes %s', (name, dir) => {
  let objects: Obj[];
  const find = (kind: string, n: string) => objects.find((o) => o.kind === kind && o.metadata.name === n)!;
  beforeAll(async () => {
    objects = await render(dir);
  });

  it('renders and every object validates against its schema', () => {
    expect(objects.length).toBe(21);
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind} has a model`).toBeDefined();
      expect(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it('the schema validation is real: a wrong field type is refused', () => {
    const server = structuredClone(find('Deployment', 'tus-server'));
    server.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => new Deployment(server as any).validate()).toThrow(/containerPort/);
    const so = structuredClone(find('ScaledObject', 'tus-processor-video'));
    so.spec.minReplicaCount = 'zero';
    expect(() => new ScaledObject(so as any).validate()).toThrow(/minReplicaCount/);
  });

  it('deploys the server and one Deployment per processor kind, with probes, preStop and a grace period longer than the drain', () => {
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['tus-server', ...KINDS.map((k) => `tus-processor-${k}`)].sort());
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const [c] = pod.containers;
      const port = c.ports[0].name;
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port });
      expect(c.lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
      const preStopMs = 5000;
      const shutdownMs = envMs(objects, c, 'SHUTDOWN_TIMEOUT_MS');
      expect(shutdownMs).toBeGreaterThan(0);
      expect(pod.terminationGracePeriodSeconds * 1000, d.metadata.name).toBeGreaterThan(shutdownMs + preStopMs);
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
      expect(c.envFrom).toEqual([{ configMapRef: { name: 'tus-edge-config' } }, { secretRef: { name: 'tus-edge-secrets' } }]);
      if (d.metadata.name !== 'tus-server') {
        const kind = d.metadata.name.replace('tus-processor-', '');
        expect(c.env.find((e: any) => e.name === 'PROCESSOR_KINDS').value).toBe(kind);
        expect(c.image).toMatch(/tus-edge-processors(:|$)/);
      } else expect(c.image).toMatch(/tus-edge(:|$)/);
    }
  });

  it('runs non-root on a read-only root file system, staging on an emptyDir', () => {
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const pod = d.spec.template.spec;
      const [c] = pod.containers;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      const data = pod.volumes.find((v: any) => v.name === 'data');
      expect(data.emptyDir.sizeLimit).toBeDefined();
      expect(c.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    }
    const server = find('Deployment', 'tus-server').spec.template.spec.containers[0];
    expect(server.env.find((e: any) => e.name === 'S3_STAGING_DIR').value).toMatch(/^\/data\//);
  });

  it('has an Ingress with the annotations tus needs and no sticky sessions; the Service has no affinity', () => {
    const ingress = find('Ingress', 'tus-edge');
    const a = ingress.metadata.annotations!;
    expect(a['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('0');
    expect(a['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(600);
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(600);
    expect(a['nginx.ingress.kubernetes.io/affinity'] ?? 'none').toBe('none');
    expect(Object.keys(a).filter((k) => /session-cookie|upstream-hash-by/.test(k))).toEqual([]);
    expect(find('Service', 'tus-server').spec.sessionAffinity).toBe('None');
    expect(ingress.spec.rules[0].http.paths[0].backend.service.name).toBe('tus-server');
  });

  it('autoscales the server on CPU and in-progress uploads per pod: min 3, max 10, with cooldowns', () => {
    const hpa = find('HorizontalPodAutoscaler', 'tus-server');
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 10, scaleTargetRef: { kind: 'Deployment', name: 'tus-server' } });
    expect(hpa.spec.metrics.map((m: any) => m.type).sort()).toEqual(['Pods', 'Resource']);
    expect(hpa.spec.metrics.find((m: any) => m.type === 'Pods').pods.metric.name).toBe('tus_uploads_in_progress');
    expect(hpa.spec.metrics.find((m: any) => m.type === 'Resource').resource.name).toBe('cpu');
    expect(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds).toBeGreaterThan(0);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThan(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds);
  });

  it('scales each processor kind with a KEDA nats-jetstream ScaledObject on its own JetStream consumers', () => {
    for (const kind of KINDS) {
      const so = find('ScaledObject', `tus-processor-${kind}`);
      expect(so.spec.scaleTargetRef.name).toBe(`tus-processor-${kind}`);
      expect(so.spec.maxReplicaCount).toBeGreaterThan(so.spec.minReplicaCount);
      expect(so.spec.cooldownPeriod).toBeGreaterThan(0);
      const consumers = so.spec.triggers.map((t: any) => {
        expect(t.type).toBe('nats-jetstream');
        expect(t.metadata.natsServerMonitoringEndpoint).toMatch(/:8222$/);
        expect(t.metadata.stream).toBe('JOBS');
        expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
        return t.metadata.consumer;
      });
      // The durable consumers processors/src/pipeline/jetstream/streams.ts creates: processor-<kind>-<lane>.
      expect(consumers.sort()).toEqual([`processor-${kind}-high`, `processor-${kind}-normal`]);
    }
  });

  it('has PodDisruptionBudgets for the server and every kind, a NetworkPolicy, config and secrets', () => {
    expect(find('PodDisruptionBudget', 'tus-server').spec.minAvailable).toBe(2);
    for (const kind of KINDS) expect(find('PodDisruptionBudget', `tus-processor-${kind}`).spec.maxUnavailable).toBe(1);
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
      const target = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === pdb.metadata.name)!;
      expect(target.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    }
    const server = find('NetworkPolicy', 'tus-server');
    expect(server.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 1080 }]);
    expect(find('NetworkPolicy', 'tus-processors').spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 1081 }]);
    expect(Object.keys(find('Secret', 'tus-edge-secrets').stringData).sort()).toEqual(['DATABASE_URL', 'OPENAI_API_KEY', 'REDIS_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']);
    if (name === 'production') {
      for (const o of objects) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('tus-edge');
      expect(find('Deployment', 'tus-server').spec.template.spec.containers[0].image).toBe('registry.example.com/tus-edge:0.1.0');
      expect(find('ConfigMap', 'tus-edge-config').data.S3_BUCKET).toBe('tus-edge-production-uploads');
    }
  });
});
