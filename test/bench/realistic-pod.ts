// A pod as a real API server returns it for a Deployment's replica (managed fields, probes,
// volumes, status conditions): what `GET pod` costs to parse in a cluster, not in the stand-in.

/** The JSON of a typical running pod (about 7 KB), named `name` in namespace `namespace`. */
export function realisticPodJson(namespace: string, name: string): string {
  const time = '2026-01-01T00:00:00Z';
  const container = {
    name: 'app',
    image: 'registry.example/team/app:1.42.0@sha256:' + 'ab'.repeat(32),
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    env: [
      { name: 'HALLMARK_SERVER_URL', value: 'https://hallmark.hallmark.svc:8443' },
      {
        name: 'POD_NAME',
        valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } },
      },
    ],
    resources: {
      limits: { cpu: '500m', memory: '256Mi' },
      requests: { cpu: '100m', memory: '128Mi' },
    },
    volumeMounts: [
      { name: 'hallmark-token', mountPath: '/var/run/secrets/hallmark', readOnly: true },
      {
        name: 'kube-api-access-x7k2p',
        mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
        readOnly: true,
      },
    ],
    livenessProbe: {
      httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' },
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    },
    readinessProbe: {
      httpGet: { path: '/readyz', port: 8080, scheme: 'HTTP' },
      periodSeconds: 5,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
  };
  const condition = (type: string) => ({
    type,
    status: 'True',
    lastProbeTime: null,
    lastTransitionTime: time,
  });
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: 'app-7d9f8c6b5d-',
      namespace,
      uid: '5c1f7a4e-1b7c-4bb9-9a65-2f0e0b1d4c11',
      resourceVersion: '48213377',
      creationTimestamp: time,
      labels: {
        app: 'app',
        'pod-template-hash': '7d9f8c6b5d',
        'app.kubernetes.io/name': 'app',
        'app.kubernetes.io/part-of': 'payments',
      },
      annotations: {
        'kubectl.kubernetes.io/restartedAt': time,
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '8080',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'app-7d9f8c6b5d',
          uid: '0a4c7e1d-9a3e-4f4b-8f0e-5d1c2b3a4f5e',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {
              'f:generateName': {},
              'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} },
              'f:ownerReferences': {
                '.': {},
                'k:{"uid":"0a4c7e1d-9a3e-4f4b-8f0e-5d1c2b3a4f5e"}': {},
              },
            },
            'f:spec': {
              'f:containers': {
                'k:{"name":"app"}': {
                  '.': {},
                  'f:image': {},
                  'f:imagePullPolicy': {},
                  'f:name': {},
                  'f:ports': {},
                  'f:resources': {},
                },
              },
              'f:dnsPolicy': {},
              'f:restartPolicy': {},
              'f:schedulerName': {},
              'f:serviceAccount': {},
              'f:serviceAccountName': {},
              'f:volumes': {},
            },
          },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time,
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: {
            'f:status': {
              'f:conditions': {},
              'f:containerStatuses': {},
              'f:hostIP': {},
              'f:phase': {},
              'f:podIP': {},
              'f:podIPs': {},
              'f:startTime': {},
            },
          },
        },
      ],
    },
    spec: {
      volumes: [
        {
          name: 'hallmark-token',
          projected: {
            sources: [
              {
                serviceAccountToken: {
                  audience: 'hallmark',
                  expirationSeconds: 3600,
                  path: 'token',
                },
              },
            ],
            defaultMode: 420,
          },
        },
        {
          name: 'kube-api-access-x7k2p',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              {
                configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
              },
              {
                downwardAPI: {
                  items: [
                    {
                      path: 'namespace',
                      fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' },
                    },
                  ],
                },
              },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        container,
        { ...container, name: 'hallmark-sidecar', image: 'registry.example/hallmark:0.1.0' },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'app',
      serviceAccount: 'app',
      nodeName: 'node-a1b2c3',
      securityContext: {
        runAsUser: 10001,
        runAsGroup: 10001,
        fsGroup: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      schedulerName: 'default-scheduler',
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running',
      conditions: [
        'PodReadyToStartContainers',
        'Initialized',
        'Ready',
        'ContainersReady',
        'PodScheduled',
      ].map(condition),
      hostIP: '10.0.12.7',
      hostIPs: [{ ip: '10.0.12.7' }],
      podIP: '10.244.3.17',
      podIPs: [{ ip: '10.244.3.17' }],
      startTime: time,
      containerStatuses: ['app', 'hallmark-sidecar'].map((n) => ({
        name: n,
        state: { running: { startedAt: time } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: 'registry.example/team/app:1.42.0',
        imageID: 'registry.example/team/app@sha256:' + 'ab'.repeat(32),
        containerID: 'containerd://' + 'cd'.repeat(32),
        started: true,
      })),
      qosClass: 'Burstable',
    },
  });
}
