#!/usr/bin/python3
"""Helper of test_ansible.sh: prints the role's variables for the test play as JSON, the test certificates inlined as PEM text.

usage: ansible_vars.py CERT_DIR DEB
"""
import json, sys
tmp, deb = sys.argv[1], sys.argv[2]
read = lambda n: open(f"{tmp}/{n}").read()
print(json.dumps({
    "hids_agent_deb": deb,
    "hids_agent_collectors": ["collector1.invalid:6514", "[::1]:6514"],
    "hids_agent_server_name": "collector.invalid",
    "hids_agent_ca_file": "/etc/hids-agent/test-ca.pem",
    "hids_agent_ca_pem": read("ca.pem"),
    "hids_agent_cert_file": "/etc/hids-agent/test-client.pem",
    "hids_agent_cert_pem": read("client.pem"),
    "hids_agent_key_file": "/etc/hids-agent/test-client.key",
    "hids_agent_key_pem": read("client.key"),
    "hids_agent_exit": "nonzero",
    "hids_agent_ip_allow": ["192.0.2.0/24"],
    "hids_agent_protocol": "relp",
    "hids_agent_spool_dir": "/var/lib/hids-agent",
    "hids_agent_spool_max_bytes": "64M",
    "hids_agent_metrics_listen": "127.0.0.1:9464",
}))
