-- Per-pool pod template: what a pool's browser pods look like on the kubernetes driver (image,
-- resources, node selector, tolerations, runtime class). Empty: the driver's defaults.
ALTER TABLE pools ADD COLUMN pod_template jsonb NOT NULL DEFAULT '{}'::jsonb;
