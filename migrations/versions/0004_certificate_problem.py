"""certificates carry the router's problem with them: why nginx refused to serve them, shown by certs:info

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('certificates', sa.Column('problem', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('certificates', 'problem')
