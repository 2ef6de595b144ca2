#!/usr/bin/env python3
"""Writes one file of N rendered GitOps documents to stdout, deterministically: 1 in 100 a
ScaledObject with a Prometheus trigger (every other one with a fixable problem: `irate` in the
query, a trailing slash on the server address), the rest Deployments, Services and ConfigMaps in
turn. What `helm template` of a large chart looks like, for scripts/bench-formats.sh.

Usage: scripts/gen-gitops-file.py [N=20000] > gitops.yaml
"""
import sys

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: team-{ns}
  labels:
    app: app-{i}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      containers:
        - name: app
          image: registry.example.com/app:{i}
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
"""

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: team-{ns}
spec:
  selector:
    app: app-{i}
  ports:
    - port: 80
      targetPort: 8080
"""

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{i}
  namespace: team-{ns}
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "a,b,c"
"""

SCALED_OBJECT = """apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: app-{i}
  namespace: team-{ns}
spec:
  scaleTargetRef:
    name: app-{i}
  minReplicaCount: 1
  maxReplicaCount: 20
  triggers:
    - type: prometheus
      metadata:
        serverAddress: {server}
        query: sum({fn}(http_requests_total{{service="app-{i}"}}[2m]))
        threshold: "100"
"""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    out = sys.stdout
    for i in range(n):
        if i:
            out.write("---\n")
        ns = i % 20
        if i % 100 == 0:
            broken = (i // 100) % 2 == 1
            out.write(
                SCALED_OBJECT.format(
                    i=i,
                    ns=ns,
                    fn="irate" if broken else "rate",
                    server="http://prometheus.monitoring.svc:9090"
                    + ("/" if broken else ""),
                )
            )
        else:
            out.write((DEPLOYMENT, SERVICE, CONFIGMAP)[i % 3].format(i=i, ns=ns))


if __name__ == "__main__":
    main()
