"""builds record when garbage collection deleted their image: a rollback to one of their releases is refused

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
    op.add_column('builds', sa.Column('collected', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('builds', 'collected')
