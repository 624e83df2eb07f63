"""builds record when garbage collection deleted their image: a rollback to one of their releases is refused

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('builds', sa.Column('collected', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('builds', 'collected')
