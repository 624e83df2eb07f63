"""The builder: an SSH daemon that receives `git push`, builds through the workers and deploys via the hooks."""
