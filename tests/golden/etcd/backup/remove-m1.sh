# hakube EtcdCluster etcd: remove scheduled snapshots on m1 (snapshots in /var/backups/etcd are kept)
set -eu
systemctl disable --now --quiet etcd-backup.timer 2>/dev/null || true
rm -rf /etc/etcd/backup /etc/systemd/system/etcd-backup.service /etc/systemd/system/etcd-backup.timer
systemctl daemon-reload
