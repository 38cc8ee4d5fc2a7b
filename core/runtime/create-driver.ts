/** Picks the runtime driver the configuration names. */
import path from 'node:path';
import type { Config } from '../config/config.ts';
import type { RuntimeDriver } from './driver.ts';
import type { PodAgentAccess } from './agent.client.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesDriver } from './kubernetes/kubernetes.driver.ts';
import { LocalDriver, xvfbAvailable } from './local.driver.ts';
import { SimDriver } from './sim/sim.driver.ts';

/** Headful on Xvfb when Xvfb is installed (the product is "a real desktop"), headless otherwise. */
export function defaultHeadless(): boolean {
  return !xvfbAvailable();
}

/** `agentAccess`: the control plane's key to the pods' agents (Services.agentAccess). */
export function createDriver(config: Config, agentAccess: PodAgentAccess): RuntimeDriver {
  switch (config.driver) {
    case 'local':
      return new LocalDriver({
        stateDir: path.resolve(config.dataDir, 'pods'),
        agentAccess,
        egress: { allow: config.egressAllow, allowPrivate: config.allowPrivateTargets },
        niceness: config.podNiceness,
        kernelRelay: config.kernelRelay,
        ...(config.chromiumPath !== undefined && { chromiumPath: config.chromiumPath }),
      });
    case 'sim':
      // Load tests only: one shared sim runtime server per data dir hosts every process's pods.
      return new SimDriver({
        stateDir: path.resolve(config.dataDir, 'sim'),
        readyMs: config.simReadyMs,
        agentAccess,
      });
    case 'kubernetes': {
      const k8s = config.kubernetes;
      if (k8s.image === undefined)
        throw new Error('VENTUS_K8S_IMAGE is required with VENTUS_DRIVER=kubernetes');
      // The standard loader: $KUBECONFIG, else in-cluster (service account), else ~/.kube/config.
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
      const resources: Record<string, string> = {
        ...(k8s.cpu !== undefined && { cpu: k8s.cpu }),
        ...(k8s.memory !== undefined && { memory: k8s.memory }),
      };
      return new KubernetesDriver({
        kubeConfig,
        agentAccess,
        egress: { allow: config.egressAllow, allowPrivate: config.allowPrivateTargets },
        namespace: k8s.namespace,
        deleteGraceSeconds: k8s.deleteGraceSeconds,
        maxConcurrentCalls: k8s.maxApiCalls,
        template: {
          image: k8s.image,
          ...(Object.keys(resources).length > 0 && { resources: { requests: resources, limits: resources } }),
          ...(k8s.nodeSelector !== undefined && { nodeSelector: k8s.nodeSelector }),
          ...(k8s.runtimeClassName !== undefined && { runtimeClassName: k8s.runtimeClassName }),
        },
      });
    }
  }
}
