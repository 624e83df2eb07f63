"""tokens record when they were last used (at most once a minute), for `pier tokens:list`

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tokens', sa.Column('last_used', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('tokens', 'last_used')
